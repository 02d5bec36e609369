import fc from 'fast-check'

/**
 * The routes of the OpenAPI document (method, path template, query parameters, body schema) and values drawn
 * from its JSON schemas, for the fuzz suite (test/integration/fuzz-routes.test.ts).
 */

export type JsonSchema = Record<string, any>
export interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { parameters?: Array<{ name: string; in: string; schema?: JsonSchema }>; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
  >
  components?: { schemas?: Record<string, JsonSchema> }
}

export interface RouteSpec {
  method: string
  /** OpenAPI template, e.g. `/v1/experiments/{id}/notes`. */
  path: string
  query: Array<{ name: string; schema: JsonSchema }>
  body: { contentTypes: string[]; schema: JsonSchema } | null
}
export const routeName = (r: RouteSpec) => `${r.method} ${r.path}`

/** One RouteSpec per operation of the document, in its order. */
export function routesFromOpenApi(doc: OpenApiDoc): RouteSpec[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const content = op.requestBody?.content ?? {}
      const contentTypes = Object.keys(content)
      return {
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        body: contentTypes.length ? { contentTypes, schema: content[contentTypes[0]].schema } : null,
      }
    }),
  )
}

/** A value from a JSON schema of the OpenAPI document: roughly valid, to be mutated. */
export function fromSchema(s: JsonSchema, doc: OpenApiDoc, depth = 0): fc.Arbitrary<unknown> {
  if (s.$ref) return depth > 8 ? fc.constant(null) : fromSchema(doc.components?.schemas?.[s.$ref.split('/').pop()] ?? {}, doc, depth + 1)
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]))
  const variants: JsonSchema[] | undefined = s.anyOf ?? s.oneOf
  if (variants) return fc.oneof(...variants.map((v) => fromSchema(v, doc, depth + 1)))
  if (s.allOf) return fromSchema(Object.assign({}, ...s.allOf), doc, depth + 1)
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ['object'] : []
  if (!types.length || depth > 8) return fc.jsonValue({ maxDepth: 2 })
  return fc.oneof(...types.map((t) => ofType(t, s, doc, depth)))
}

function ofType(type: string, s: JsonSchema, doc: OpenApiDoc, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'string':
      if (s.format === 'date') return fc.constantFrom('2027-01-31', '2026-12-01')
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).map((x) => x.slice(0, s.maxLength ?? 64) || 'a')
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.max(s.minLength ?? 0, Math.min(s.maxLength ?? 20, 20)) })
    case 'integer': {
      const small = fc.integer({ min: s.minimum ?? (s.exclusiveMinimum ?? -1001) + 1, max: s.maximum ?? 1000 })
      // An unbounded integer is where a column type's own limit (Postgres int4) would show.
      return s.maximum === undefined ? fc.oneof(small, fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER)) : small
    }
    case 'number': {
      const small = fc.double({
        min: s.minimum ?? s.exclusiveMinimum ?? -1000,
        minExcluded: s.exclusiveMinimum !== undefined,
        max: s.maximum ?? 1000,
        noNaN: true,
      })
      return s.maximum === undefined ? fc.oneof(small, fc.constantFrom(2 ** 31, 1e21, Number.MAX_VALUE)) : small
    }
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array': {
      if (s.prefixItems) return fc.tuple(...(s.prefixItems as JsonSchema[]).map((i) => fromSchema(i, doc, depth + 1)))
      const minLength = s.minItems ?? 0
      return fc.array(fromSchema(s.items ?? {}, doc, depth + 1), { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 3, 3)) })
    }
    case 'object': {
      const props = Object.entries<JsonSchema>(s.properties ?? {})
      if (!props.length)
        return fc.dictionary(
          fc.string({ maxLength: 8 }),
          fromSchema(typeof s.additionalProperties === 'object' ? s.additionalProperties : {}, doc, depth + 1),
          { maxKeys: 3 },
        )
      return fc.record(Object.fromEntries(props.map(([k, p]) => [k, fromSchema(p, doc, depth + 1)])), { requiredKeys: s.required ?? [] })
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}
