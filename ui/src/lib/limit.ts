/**
 * At most `concurrency` tasks at a time, the rest queued in order: the experiments list asks for many
 * reports, and the API (and a 2-core laptop) should not get them all at once.
 *
 *   const limited = limiter(2)
 *   const report = await limited(() => getReport(id))
 */
export function limiter(concurrency: number) {
  let active = 0
  const queue: Array<() => void> = []
  const next = () => {
    if (active >= concurrency) return
    const start = queue.shift()
    if (start) start()
  }
  return function run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push(() => {
        active++
        task()
          .then(resolve, reject)
          .finally(() => {
            active--
            next()
          })
      })
      next()
    })
  }
}
