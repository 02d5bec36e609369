import { readFileSync } from 'node:fs'

/** The excerpt of GrowthBook's SDK spec cases in test/fixtures/growthbook (see SOURCE.md there). */
export interface GrowthBookCases {
  specVersion: string
  hash: [seed: string, value: string, version: number, expected: number | null][]
  getBucketRange: [name: string, args: [numVariations: number, coverage: number, weights: number[] | null], expected: [number, number][]][]
  chooseVariation: [name: string, n: number, ranges: [number, number][], expected: number][]
  inNamespace: [name: string, id: string, namespace: [name: string, start: number, end: number], expected: boolean][]
  evalCondition: [name: string, condition: Record<string, unknown>, attributes: Record<string, unknown>, expected: boolean][]
}

export const growthbookCases = JSON.parse(readFileSync(new URL('../../fixtures/growthbook/cases.json', import.meta.url), 'utf8')) as GrowthBookCases
