/**
 * Experiments on the wire: what /v1/experiments answers and what its forms send. The zod schemas in
 * experiments/schema.ts are the one source; these are their inferred types (outputs as answered, inputs as sent).
 */
import type { z } from 'zod'
import type { Arm, ExperimentCreate, NoteCreate } from '../experiments/schema.ts'

export type { Arm, CatalogueMetricRef, Experiment, ExperimentStatus, MetricKey, Note } from '../experiments/schema.ts'
export type Offer = Arm['offer']
/** What a form sends to POST /v1/experiments: defaults may be omitted, exactly as the schema reads its input. */
export type ExperimentDraft = z.input<typeof ExperimentCreate>
/** POST /v1/experiments/:id/notes. */
export type NoteInput = z.input<typeof NoteCreate>

/** GET /v1/experiments/:id/attributes: an attribute captured at first exposure, what a breakdown can split by. */
export interface ExperimentAttribute {
  key: string
  /** Customers who had the attribute when first assigned. */
  customers: number
  /** Distinct values among them: an id-like attribute (thousands of values) makes a useless breakdown. */
  values: number
}
