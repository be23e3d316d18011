#!/usr/bin/python3
"""Turns bench/scale.sh's results.tsv into the markdown table of docs/benchmarks.md and a small SVG
plot (wall time against training-set size, one line per step).

    /usr/bin/python3 bench/scale_report.py /tmp/scale-data/results.tsv --svg docs/scale.svg
"""
import argparse, csv, sys
from collections import OrderedDict

COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']


def read(path):
    rows = list(csv.DictReader(open(path), delimiter='\t'))
    levels = sorted({int(r['level']) for r in rows if r['level'].isdigit()})
    steps = OrderedDict()
    for r in rows:
        if r['level'].isdigit():  # last measurement of a (step, level) wins
            steps.setdefault(r['step'], {})[int(r['level'])] = r
    return rows, levels, steps


def table(rows, levels, steps):
    out = ['| step | per | ' + ' | '.join(f'{n:,} images' for n in levels) + ' | peak RSS (MiB) |',
           '|---|---|' + '---|' * len(levels) + '---|']
    for step, by_level in steps.items():
        cells = []
        for n in levels:
            r = by_level.get(n)
            if r is None:
                cells.append('-')
                continue
            wall, images = float(r['wall_s']), int(r['images'])
            cells.append(f'{wall:.1f} s ({1000 * wall / images:.2f} ms)')
        per = 'test image' if step.startswith('predict') else 'image'
        rss = ' / '.join(by_level[n]['peak_rss_mib'] if n in by_level else '-' for n in levels)
        out.append(f'| {step} | {per} | ' + ' | '.join(cells) + f' | {rss} |')
    loads = [float(r['load1']) for r in rows]
    out.append('')
    out.append(f'1-minute load average before each command: median {sorted(loads)[len(loads) // 2]:.2f}, '
               f'min {min(loads):.2f}, max {max(loads):.2f}.')
    full = [r for r in rows if not r['level'].isdigit()]
    if full:
        out.append('')
        out.append('| full-size run | images | wall s | images/s | peak RSS (MiB) | load |')
        out.append('|---|---|---|---|---|---|')
        for r in full:
            wall, images = float(r['wall_s']), int(r['images'])
            out.append(f"| {r['step']} | {images} | {wall:.1f} | {images / wall:.1f} | {r['peak_rss_mib']} | {r['load1']} |")
    return '\n'.join(out)


def svg(levels, steps, path):
    w, h, left, bottom, top, right = 560, 340, 60, 40, 20, 170
    series = [(s, [(n, float(v[n]['wall_s'])) for n in levels if n in v]) for s, v in steps.items()]
    xmax = max(levels)
    ymax = max(t for _, pts in series for _, t in pts) * 1.05
    x = lambda n: left + (w - left - right) * n / xmax
    y = lambda t: h - bottom - (h - top - bottom) * t / ymax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
             f'<text x="{(left + w - right) / 2}" y="{h - 8}" text-anchor="middle">training-set images</text>',
             f'<text x="14" y="{(top + h - bottom) / 2}" transform="rotate(-90 14 {(top + h - bottom) / 2})" '
             f'text-anchor="middle">wall time (s)</text>']
    for n in levels:
        parts.append(f'<text x="{x(n):.1f}" y="{h - bottom + 14}" text-anchor="middle">{n // 1000}k</text>')
    for i in range(5):
        t = ymax * i / 4
        parts.append(f'<text x="{left - 4}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.0f}</text>')
    for i, (step, pts) in enumerate(series):
        c = COLOURS[i % len(COLOURS)]
        line = ' '.join(f'{x(n):.1f},{y(t):.1f}' for n, t in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{c}" stroke-width="2"/>')
        parts += [f'<circle cx="{x(n):.1f}" cy="{y(t):.1f}" r="3" fill="{c}"/>' for n, t in pts]
        parts.append(f'<text x="{w - right + 10}" y="{top + 16 * i + 10}" fill="{c}">{step}</text>')
    parts.append('</svg>')
    open(path, 'w').write('\n'.join(parts) + '\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('results')
    ap.add_argument('--svg', help='also write the plot here')
    args = ap.parse_args()
    rows, levels, steps = read(args.results)
    if not levels:
        sys.exit(f'{args.results}: no measurements')
    print(table(rows, levels, steps))
    if args.svg:
        svg(levels, steps, args.svg)


if __name__ == '__main__':
    main()
