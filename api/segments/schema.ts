import { z } from '@hono/zod-openapi'
import { RULE_FIELD_OPERATORS, ruleProblems, SEGMENT_FIELDS } from './rule.ts'

/**
 * A segment definition: a named rule over customer features (issue 20, item 2), e.g. "price-sensitive lapsed"
 * = `{ $and: [{ lapse_stage: 'lapsed' }, { discount_affinity: { $gte: 0.5 } }] }`. Every definition is versioned;
 * a change is a new version and earlier ones stay readable. docs/segments.md explains each part.
 */

export const SEGMENT_TEXT_LIMITS = { name: 120, description: 2000, owner: 120, tags: 10, tagLength: 40 } as const

export const SegmentKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,63}$/, 'must be 2–64 characters: lowercase letters, digits and underscores, starting with a letter')
  // The key is a path segment of the dashboard and the API; `new` would read as a page.
  .refine((k) => k !== 'new', 'is reserved: choose another key')

/**
 * The rule: a targeting condition over features. Checked as a whole so that every problem is reported at once, each
 * named by its path (`rule.$and[1].recency_dayz`, the form targeting errors take).
 */
export const SegmentRule = z
  .record(z.string(), z.unknown())
  .superRefine((rule, ctx) => {
    for (const p of ruleProblems(rule)) ctx.addIssue({ code: 'custom', path: p.path === '' ? [] : [p.path], message: p.message })
  })
  .openapi('SegmentRule', {
    description:
      `A GrowthBook-style condition over customer features (${Object.keys(SEGMENT_FIELDS).join(', ')}) with the operators ` +
      `${RULE_FIELD_OPERATORS.join(' ')} $and $or $nor`,
    example: { $and: [{ lapse_stage: 'lapsed' }, { discount_affinity: { $gte: 0.5 } }] },
  })

const segmentFields = {
  key: SegmentKey,
  name: z.string().trim().min(1).max(SEGMENT_TEXT_LIMITS.name),
  description: z.string().max(SEGMENT_TEXT_LIMITS.description).default(''),
  owner: z.string().max(SEGMENT_TEXT_LIMITS.owner).default(''),
  tags: z.array(z.string().trim().min(1).max(SEGMENT_TEXT_LIMITS.tagLength)).max(SEGMENT_TEXT_LIMITS.tags).default([]),
  rule: SegmentRule,
}

/** What POST /v1/segments takes; an unknown field (a misspelt `rules`) is refused by name rather than dropped. */
export const SegmentDefinitionInput = z.object(segmentFields).strict().openapi('SegmentDefinitionInput')
export type SegmentDefinitionInput = z.infer<typeof SegmentDefinitionInput>

/** A stored version: the definition plus who made it and when. Versions are immutable; a change is a new version. */
export type StoredSegment = SegmentDefinitionInput & {
  version: number
  archived: boolean
  createdAt: string
  createdBy: string
}

/** A stored version on the wire (for the OpenAPI document). */
export const SegmentVersion = z
  .object({ ...segmentFields, version: z.number().int(), archived: z.boolean(), createdAt: z.string(), createdBy: z.string() })
  .openapi('Segment', { description: 'One immutable version of a segment definition' })
