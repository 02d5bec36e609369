import * as d3 from 'd3'

/**
 * What a line chart draws before its data: horizontal grid lines at the value ticks, the time (or category) axis
 * below and the value axis on the left, with the shared looks of app.css (`.grid`, `.axis`, `.axis-label`).
 */

export interface ChartFrame {
  width: number
  height: number
  margin: { top: number; right: number; bottom: number; left: number }
}

export interface AxesOptions<X extends d3.AxisDomain> {
  x: d3.AxisScale<X>
  y: d3.ScaleLinear<number, number>
  /** Exact tick values for x (e.g. one per week at most); otherwise d3 picks `xTickCount`. */
  xTicks?: X[]
  xTickCount?: number
  xFormat: (d: X) => string
  yTickCount?: number
  yFormat: (d: number) => string
  /** Written along the value axis. */
  yLabel?: string
}

/** `drawGridAndAxes(d3.select(svg), frame, { x, y, xFormat, yFormat })` appends the grid and both axes. */
export function drawGridAndAxes<X extends d3.AxisDomain>(
  root: d3.Selection<SVGSVGElement, unknown, null, undefined>,
  { width, height, margin: m }: ChartFrame,
  o: AxesOptions<X>,
): void {
  const yTicks = o.y.ticks(o.yTickCount ?? 5)
  root
    .append('g')
    .attr('class', 'grid')
    .selectAll('line')
    .data(yTicks)
    .join('line')
    .attr('x1', m.left)
    .attr('x2', width - m.right)
    .attr('y1', (d) => o.y(d))
    .attr('y2', (d) => o.y(d))
  const bottom = d3
    .axisBottom(o.x)
    .tickFormat((d) => o.xFormat(d))
    .tickSizeOuter(0)
  if (o.xTicks) bottom.tickValues(o.xTicks)
  else bottom.ticks(o.xTickCount ?? 5)
  root
    .append('g')
    .attr('class', 'axis x')
    .attr('transform', `translate(0,${height - m.bottom})`)
    .call(bottom)
  root
    .append('g')
    .attr('class', 'axis y')
    .attr('transform', `translate(${m.left},0)`)
    .call(
      d3
        .axisLeft(o.y)
        .tickValues(yTicks)
        .tickFormat((d) => o.yFormat(d as number))
        .tickSizeOuter(0),
    )
  if (o.yLabel)
    root
      .append('text')
      .attr('class', 'axis-label')
      .attr('transform', `translate(12,${(m.top + height - m.bottom) / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .text(o.yLabel)
}
