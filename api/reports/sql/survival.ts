import { customerWindowSql } from './customer-window.ts'

/**
 * Kaplan–Meier input per arm: customers whose first purchase fell on day d (events) or who were last
 * observed on day d without one (censored at the end of the window, or at asOf for recent exposures).
 */
export const survivalSql = `WITH ${customerWindowSql}
SELECT arm, toUInt32(intDiv(if(orders > 0, first_purchase_ms, greatest(observed_ms, 0)), 86400000)) AS day,
  countIf(orders > 0) AS events, countIf(orders = 0) AS censored
FROM customers
GROUP BY arm, day
ORDER BY arm, day`
