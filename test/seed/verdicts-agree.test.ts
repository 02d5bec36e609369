import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openHarness, type Harness } from '../helpers/harness.ts'
import { seedDirect } from '../../seed/writer-direct.ts'
import { demoPlan } from '../../seed/experiments.ts'

// 30,000 customers (the demo has 50,000): enough for the planted net-value loss of the VIP offer to show.
// The invariant of docs/statistics.md, checked on every number the demo world shows: wherever something is
// called significant, the interval displayed beside it excludes 0, and the reverse; summary sentences agree.
let h: Harness
const NOW = Date.now()

beforeAll(async () => {
  h = await openHarness()
  await seedDirect({ db: h.db, ch: h.ch }, { seed: 7, customers: 30_000, now: NOW, onWarning: () => {} })
  await h.retention.cache.refresh()
}, 180_000)
afterAll(() => h?.close())

const excludesZero = (ci: [number, number]) => ci[0] > 0 || ci[1] < 0

function checkComparison(c: any, where: string) {
  if (c.ci) expect(c.significant, `${where}: significant=${c.significant} but interval [${c.ci}]`).toBe(excludesZero(c.ci))
  else expect(c.significant, `${where}: significant without an interval`).toBe(false)
  if (c.guardrail) {
    const g = c.guardrail
    const harmLo = g.harmDirection === 'increase' ? g.ci[0] : -g.ci[1]
    const harmHi = g.harmDirection === 'increase' ? g.ci[1] : -g.ci[0]
    expect(g.status === 'harmed', `${where}: guardrail`).toBe(harmLo > g.margin)
    expect(g.status === 'within_margin', `${where}: guardrail`).toBe(harmHi < g.margin)
  }
  if (c.adjustedPValue !== undefined && c.adjustedPValue !== null) expect(c.significant, where).toBe(c.adjustedPValue < c.alpha)
}

describe('verdicts agree with their intervals across the demo world', () => {
  it('in every report (both inclusions, with a breakdown), every summary sentence, the library and the KPIs', async () => {
    let checked = 0
    for (const planned of demoPlan.experiments) {
      const id = planned.definition.id
      for (const query of ['', '&include=immature']) {
        const res = await h.call('GET', `/v1/experiments/${id}/report?dimension=tier${query}`)
        expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200)
        const report = res.body
        for (const m of report.metrics) {
          for (const c of m.comparisons) {
            checkComparison(c, `${id}${query} ${m.key} ${c.variant} vs ${c.against}`)
            checked++
          }
          if (m.kind === 'survival') continue
          // The sentence names significance only for a comparison that is significant, with that interval.
          const significantSentence = / significant \(/.test(m.summary)
          const vsControl = m.comparisons.filter((c: any) => c.against === 'control')
          if (significantSentence)
            expect(
              vsControl.some((c: any) => c.significant),
              `${id} ${m.key}: ${m.summary}`,
            ).toBe(true)
          if (/not significant/.test(m.summary))
            expect(
              vsControl.some((c: any) => c.significant),
              `${id} ${m.key}: ${m.summary}`,
            ).toBe(false)
          expect(m.summary).not.toMatch(/p = <|by −/)
        }
        for (const s of report.breakdown?.segments ?? [])
          for (const m of s.metrics) for (const c of m.comparisons) checkComparison(c, `${id} segment ${s.value} ${m.key} ${c.variant}`)
        // A shipped arm is significantly better on the primary metric; a rolled-back one is harmed.
        const rec = report.recommendation
        const primary =
          report.metrics.find((m: any) => m.key === planned.definition.analysis?.primaryMetric) ??
          report.metrics.find((m: any) => m.comparisons.some((c: any) => c.family === 'decision'))
        if (rec.action === 'ship') expect(primary.comparisons.find((c: any) => c.variant === rec.arm && c.against === 'control').significant).toBe(true)
        if (rec.action === 'roll_back')
          expect(report.metrics.some((m: any) => m.comparisons.some((c: any) => c.variant === rec.arm && c.guardrail?.status === 'harmed'))).toBe(true)
      }
    }
    expect(checked).toBeGreaterThan(200)

    const library = (await h.call('GET', '/v1/library')).body
    expect(library.rows.length).toBeGreaterThan(0)
    for (const row of library.rows) {
      for (const c of row.comparisons) checkComparison({ ...c, alpha: 0.05 }, `library ${row.experimentId} ${row.dimension}=${row.segment} ${c.variant}`)
      if (row.winner) expect(excludesZero(row.winner.ci)).toBe(true)
    }

    for (const query of ['', '&include=immature']) {
      const kpis = (await h.call('GET', `/v1/kpis?window=30${query}`)).body
      for (const [key, c] of Object.entries<any>(kpis.lift)) checkComparison(c, `kpis ${key}`)
    }
  })

  it('recommends shipping the strongest win-back offer, and rolling back the offer that loses money', async () => {
    const winback = (await h.call('GET', '/v1/experiments/winback-lapsed/report')).body
    expect(winback.recommendation).toMatchObject({ action: 'ship', arm: 'pct15' })
    expect(winback.recommendation.reasons.join(' ')).toMatch(/significant in the decision family/)
    const vip = (await h.call('GET', '/v1/experiments/vip-20-off-active/report')).body
    expect(vip.recommendation).toMatchObject({ action: 'roll_back', arm: 'pct20' })
  })
})
