import { Hono } from 'hono'
import { serve } from '@hono/node-server'

// The baseline for the assignment benchmark: a Hono route that parses the same JSON body and answers
// with a small JSON object, doing no assignment, auth or storage.
const app = new Hono()
app.post('/v1/assign', async (c) => {
  const body = await c.req.json()
  return c.json({ experimentId: body.experimentId, customerId: body.customerId, arm: 'control' })
})
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3999) }, () => console.log('bare server ready'))
