/*
 * Charts drawn in the page as SVG with the DOM, for the reports: a bar
 * per item of a rate from 0 to 1 (the completion rate per course), and
 * bars of two series per month (completions and due work over time).
 * Positions across are percentages of the chart's width, so that a
 * chart fills a phone's screen and a desktop's column without scaling
 * its text. Every chart is an image named by its <title> and described
 * by its <desc>; the page shows the same numbers in a table, which is
 * what assistive technology and a print read.
 */

import { uid } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

/* An SVG element; attributes as for setAttribute, children appended. */
export function svg(tag, attrs = {}, ...children) {
	const el = document.createElementNS(NS, tag);

	for (const [k, v] of Object.entries(attrs))
		if (v !== null && v !== undefined)
			el.setAttribute(k, String(v));
	for (const c of children.flat())
		if (c !== null && c !== undefined)
			el.append(c instanceof Node ? c :
				  document.createTextNode(String(c)));
	return el;
}

/* The frame of a chart: <svg role="img"> named by title and described
 * by desc, height px high, the full width of its container. */
function chartFrame(kind, title, desc, height, ...parts) {
	const tid = uid('chart-title');
	const did = uid('chart-desc');

	return svg('svg', { class: `chart chart-${kind}`, role: 'img',
			    width: '100%', height,
			    'aria-labelledby': `${tid} ${did}` },
		   svg('title', { id: tid }, title),
		   svg('desc', { id: did }, desc), ...parts);
}

/* A number as a percentage of the width: "37.5%". */
function pct(n) {
	return `${Math.round(n * 1000) / 1000}%`;
}

const ROW = 46;	/* px per bar of the rate chart */
const LABEL_MAX = 32; /* characters of a label that fit on a phone */

/* A label cut to what fits beside the value on a narrow screen. */
function fit(label) {
	const s = String(label);

	return s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s;
}

/*
 * A horizontal bar per item: items [{ id, label, rate (0..1), text }],
 * the label (cut when long; whole in the row's title) and text
 * ("50 %") above a bar as long as the rate. Each bar's rect has data-id
 * and class "chart-bar".
 */
export function rateChart(title, desc, items) {
	const rows = items.map((it, i) => {
		const y = i * ROW;
		const rate = Math.max(0, Math.min(1, Number(it.rate) || 0));

		return svg('g', { class: 'chart-row' },
			   svg('title', {}, `${it.label}: ${it.text}`),
			   svg('text', { x: 0, y: y + 16, class: 'label' },
			       fit(it.label)),
			   svg('text', { x: '100%', y: y + 16,
					 'text-anchor': 'end',
					 class: 'value' }, it.text),
			   svg('rect', { x: 0, y: y + 22, width: '100%',
					 height: 14, rx: 3,
					 class: 'track' }),
			   svg('rect', { x: 0, y: y + 22,
					 width: pct(rate * 100), height: 14,
					 rx: 3, class: 'chart-bar',
					 'data-id': it.id }));
	});

	return chartFrame('rate', title, desc,
			  Math.max(1, items.length) * ROW, rows);
}

const PLOT_TOP = 18;	 /* px above the tallest bar, for its scale */
const PLOT_HEIGHT = 140; /* px of the bars */
const AXIS = 22;	 /* px below them, for the labels of the slots */

/* The top of the scale: the largest value, at least 1. */
function scaleTop(slots, series) {
	let top = 1;

	for (const s of slots)
		for (const { key } of series)
			top = Math.max(top, Number(s[key]) || 0);
	return top;
}

/* The bars of one slot: one per series, side by side in its middle. */
function slotBars(slot, i, n, series, top) {
	const width = 100 / n;
	const bar = width * 0.7 / series.length;
	const left = i * width + width * 0.15;

	return series.map(({ key, cls }, k) => {
		const v = Number(slot[key]) || 0;
		const hgt = Math.round(v / top * PLOT_HEIGHT);

		return svg('rect', { x: pct(left + k * bar), width: pct(bar),
				     y: PLOT_TOP + PLOT_HEIGHT - hgt,
				     height: hgt, class: `chart-bar ${cls}`,
				     'data-slot': slot.id,
				     'data-series': key });
	});
}

/*
 * Vertical bars over time: slots [{ id, label, ...values }] (a month
 * each), series [{ key, cls }] the values drawn side by side in every
 * slot, coloured by the class cls (the page's legend names them). The
 * largest value is written at the top of the scale.
 */
export function seriesChart(title, desc, slots, series) {
	const n = Math.max(1, slots.length);
	const top = scaleTop(slots, series);
	const base = PLOT_TOP + PLOT_HEIGHT;

	return chartFrame('series', title, desc, base + AXIS,
		svg('text', { x: 0, y: 12, class: 'scale' }, String(top)),
		svg('line', { x1: 0, x2: '100%', y1: PLOT_TOP, y2: PLOT_TOP,
			      class: 'grid' }),
		svg('line', { x1: 0, x2: '100%', y1: base, y2: base,
			      class: 'axis' }),
		slots.map((s, i) => svg('g', { class: 'chart-slot' },
			slotBars(s, i, n, series, top),
			svg('text', { x: pct((i + 0.5) * 100 / n),
				      y: base + 16, 'text-anchor': 'middle',
				      class: 'label' }, s.label))));
}
