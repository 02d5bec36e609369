import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { twoArmExperiment } from '../helpers/harness.ts'
import { DESKTOP, openDashboard, settled, shot, type Dashboard } from './browser.ts'

// Issue 18, forms that guide: the new-experiment form shows every problem at once beside its field, in plain
// words, checks ranges with the API's own limits before sending (a 150% discount never leaves the browser), says
// why the power calculator has no number, and puts the calculator before the submit button on a phone.

const PHONE_390 = { width: 390, height: 844 }
const zodWords = /Too big|Too small|expected|Invalid input|received/

let d: Dashboard
let page: Page
/** Bodies the page POSTed to /v1/experiments. */
const posts: unknown[] = []
const experimentNames = async () => ((await d.api('GET', '/v1/experiments')).body.experiments as Array<{ name: string }>).map((e) => e.name)

beforeAll(async () => {
  d = await openDashboard()
  expect((await d.api('POST', '/v1/experiments', twoArmExperiment('spring-winback', { name: 'Spring win-back' }))).status).toBe(201)
  page = await d.signedInPage({ viewport: DESKTOP })
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/experiments') posts.push(r.postDataJSON())
  })
})

afterAll(async () => {
  await d?.close()
})

async function openForm(p: Page) {
  await p.goto(`${d.base}/experiments/new`)
  await p.locator('#field-name').waitFor()
  await settled(p)
}

/** For each input: is it marked invalid, which message does aria-describedby point to, and is that message inside the input's own field? */
function beside(p: Page, inputIds: string[]) {
  return p.evaluate(
    (ids) =>
      Object.fromEntries(
        ids.map((id) => {
          const input = document.getElementById(id) as HTMLElement
          const describedBy = input.getAttribute('aria-describedby')
          const message = describedBy ? document.getElementById(describedBy) : null
          const field = input.closest('.field')
          return [
            id,
            {
              invalid: input.getAttribute('aria-invalid'),
              message: message?.textContent?.trim() ?? null,
              inItsField: !!message && !!field && field.contains(message),
            },
          ]
        }),
      ),
    inputIds,
  )
}

const shown = (p: Page) => p.locator('.field-error').allTextContents()

describe('the new-experiment form', () => {
  it('shows four mistakes at once, each beside its own field in plain words, without sending anything', async () => {
    await openForm(page)
    await page.locator('#field-arms-1-name').fill('')
    await page.locator('#field-holdoutPct').fill('80')
    // A range is checked as it is typed, beside the field, before any submit.
    await page.locator('#field-holdoutPct-error').waitFor()
    expect(await page.locator('#field-holdoutPct-error').textContent()).toBe('must be at most 50%')
    await page.locator('#field-analysis-alpha').fill('0.5')
    await page.getByRole('button', { name: 'Create draft' }).click()

    await page.getByTestId('error-summary').waitFor()
    await page.waitForFunction(() => document.querySelectorAll('.field-error').length === 4)
    expect(await beside(page, ['field-name', 'field-arms-1-name', 'field-holdoutPct', 'field-analysis-alpha'])).toEqual({
      'field-name': { invalid: 'true', message: 'must not be empty', inItsField: true },
      'field-arms-1-name': { invalid: 'true', message: 'must not be empty', inItsField: true },
      'field-holdoutPct': { invalid: 'true', message: 'must be at most 50%', inItsField: true },
      'field-analysis-alpha': { invalid: 'true', message: 'must be at most 0.2', inItsField: true },
    })
    const summary = await page.getByTestId('error-summary').textContent()
    expect(summary).toContain('4 problems')
    expect(summary).toContain('Experiment holdout: must be at most 50%')
    for (const text of [...(await shown(page)), summary]) expect(text).not.toMatch(zodWords)
    await shot(page, 'forms-four-mistakes-1280')
    expect(posts).toEqual([])

    // Fixing a field takes its message away at once; the others stay.
    await page.locator('#field-holdoutPct').fill('10')
    await page.locator('#field-holdoutPct-error').waitFor({ state: 'detached' })
    expect(await page.locator('#field-holdoutPct').getAttribute('aria-invalid')).toBeNull()
    expect(await shown(page)).toHaveLength(3)
  })

  it("puts every problem of the API's answer beside its field at once, in the API's words, and clears one when it is edited", async () => {
    await openForm(page)
    await page.locator('#field-name').fill('Mistakes only the API sees')
    await page.locator('#field-id').fill('Not a slug')
    await page.locator('#field-arms-1-key').fill('Bad Key')
    await page.getByLabel('Keep this experiment’s customers out of competing offers').check()
    await page.locator('#field-namespace-name').fill('Win Back')
    await page.getByLabel('Incentive budget').check()
    await page.locator('#field-budget-amount').fill('2500')
    await page.locator('#field-budget-currency').fill('12')
    await page.getByRole('button', { name: 'Create draft' }).click()

    await page.waitForFunction(() => document.querySelectorAll('.field-error').length === 4)
    expect(posts).toHaveLength(1)
    const slugWords = 'use lowercase letters, digits, "-" and "_", starting with a letter or digit'
    expect(await beside(page, ['field-id', 'field-arms-1-key', 'field-namespace-name', 'field-budget-currency'])).toEqual({
      'field-id': { invalid: 'true', message: slugWords, inItsField: true },
      'field-arms-1-key': { invalid: 'true', message: slugWords, inItsField: true },
      'field-namespace-name': { invalid: 'true', message: slugWords, inItsField: true },
      'field-budget-currency': { invalid: 'true', message: 'an ISO 4217 code such as USD', inItsField: true },
    })
    expect(await page.getByTestId('error-summary').textContent()).toContain('The experiment was not saved: 4 problems')
    for (const text of await shown(page)) expect(text).not.toMatch(zodWords)
    await shot(page, 'forms-api-mistakes-1280')

    await page.locator('#field-id').fill('api-mistakes')
    await page.locator('#field-id-error').waitFor({ state: 'detached' })
    expect(await page.locator('#field-id').getAttribute('aria-invalid')).toBeNull()
    expect(await shown(page)).toHaveLength(3)
    expect(await experimentNames()).not.toContain('Mistakes only the API sees')
  })

  it('flags a 150% discount beside the offer and does not send it; the API refuses it too', async () => {
    posts.length = 0
    await openForm(page)
    await page.locator('#field-name').fill('One hundred and fifty percent off')
    await page.locator('#field-arms-1-offer-type').selectOption('percent_off')
    await page.locator('#field-arms-1-offer-value').fill('150')
    await page.locator('#field-arms-1-offer-value-error').waitFor()
    expect(await beside(page, ['field-arms-1-offer-value'])).toEqual({
      'field-arms-1-offer-value': { invalid: 'true', message: 'must be at most 100%', inItsField: true },
    })

    await page.getByRole('button', { name: 'Create draft' }).click()
    await page.getByTestId('error-summary').waitFor()
    expect(await page.getByTestId('error-summary').textContent()).toContain('Arm 2 offer value: must be at most 100%')
    expect(new URL(page.url()).pathname).toBe('/experiments/new')
    expect(posts).toEqual([])
    expect(await experimentNames()).not.toContain('One hundred and fifty percent off')

    const body = twoArmExperiment('pct150', { name: 'One hundred and fifty percent off' })
    body.arms[1] = { ...body.arms[1], offer: { type: 'percent_off', value: 150 } as never }
    const refused = await d.api('POST', '/v1/experiments', body)
    expect(refused.status).toBe(400)
    expect(refused.body.error.fields).toEqual([{ field: 'arms.1.offer.value', message: expect.stringContaining('between 0 and 100') }])
  })

  it('shows the suggestion for a name already in use beside the name', async () => {
    await openForm(page)
    await page.locator('#field-name').fill('spring WIN-BACK')
    await page.getByRole('button', { name: 'Create draft' }).click()
    await page.locator('#field-name-error').waitFor()
    expect(await beside(page, ['field-name'])).toEqual({
      'field-name': {
        invalid: 'true',
        message: "an experiment is already named 'spring WIN-BACK'; choose another name, e.g. 'spring WIN-BACK (2)'",
        inItsField: true,
      },
    })
    expect((await experimentNames()).filter((n) => n.toLowerCase() === 'spring win-back')).toHaveLength(1)
  })

  it('says why the power calculator cannot compute instead of a bare dash', async () => {
    await openForm(page)
    await page.getByLabel('Baseline rate').fill('0')
    const why = page.getByTestId('power-why')
    await why.waitFor()
    expect(await why.textContent()).toContain('Needs a baseline above 0%')
    expect(await page.getByLabel('Baseline rate').getAttribute('aria-describedby')).toBe('power-why')
    expect(await page.getByLabel('Baseline rate').getAttribute('aria-invalid')).toBe('true')
    await shot(page, 'forms-power-why-1280')

    await page.getByLabel('Baseline rate').fill('10')
    await why.waitFor({ state: 'detached' })
    expect(await page.getByTestId('power-per-arm').textContent()).toMatch(/^\d{1,3}(,\d{3})*$/)
    await page.getByLabel('Eligible customers per day').fill('0')
    await why.waitFor()
    expect(await why.textContent()).toContain('Needs eligible customers per day above 0')
  })

  it('puts the power calculator above the submit button on a 390 px phone', async () => {
    const phone = await d.signedInPage({ viewport: PHONE_390, isMobile: true, hasTouch: true })
    await openForm(phone)
    const calculator = await phone.locator('section.power').boundingBox()
    const submit = await phone.getByRole('button', { name: 'Create draft' }).boundingBox()
    expect(calculator && submit).toBeTruthy()
    expect(calculator!.y + calculator!.height).toBeLessThanOrEqual(submit!.y)
    expect(await phone.evaluate(() => document.documentElement.scrollWidth), 'wider than the phone').toBeLessThanOrEqual(PHONE_390.width)

    await phone.locator('#field-holdoutPct').fill('80')
    await phone.getByRole('button', { name: 'Create draft' }).click()
    await phone.getByTestId('error-summary').waitFor()
    await phone.locator('#field-holdoutPct-error').waitFor()
    await shot(phone, 'forms-new-experiment-390')
    await phone.context().close()
    expect(d.pageErrors).toEqual([])
  })
})
