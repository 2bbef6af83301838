#!/usr/bin/env python3
"""Derive Pub 15-T annual percentage-method tables (Worksheet 1A) from the statutory brackets.

Construction (see docs/RULE-PACKS.md): standard table zero bracket Z = standard deduction minus the
line-1g amount, thresholds = Z + bracket edges; Step-2 checkbox table Z = SD/2 and every edge halved
(half dollars round up), C = half of the standard C rounded to cents. Prints TOML rows; used to write
and to cross-check shared/domain/rules/us-federal-*.toml.
"""
from decimal import Decimal as D, ROUND_HALF_UP
import sys

RATES = [D("0.10"), D("0.12"), D("0.22"), D("0.24"), D("0.32"), D("0.35"), D("0.37")]
YEARS = {
    2024: dict(sd=dict(mfj=29200, single=14600, hoh=21900),
               edges=dict(single=[11600, 47150, 100525, 191950, 243725, 609350],
                          mfj=[23200, 94300, 201050, 383900, 487450, 731200],
                          hoh=[16550, 63100, 100500, 191950, 243700, 609350])),
    2025: dict(sd=dict(mfj=30000, single=15000, hoh=22500),
               edges=dict(single=[11925, 48475, 103350, 197300, 250525, 626350],
                          mfj=[23850, 96950, 206700, 394600, 501050, 751600],
                          hoh=[17000, 64850, 103350, 197300, 250500, 626350])),
    2026: dict(sd=dict(mfj=32200, single=16100, hoh=24150),
               edges=dict(single=[12400, 50400, 105700, 201775, 256225, 640600],
                          mfj=[24800, 100800, 211400, 403550, 512450, 768700],
                          hoh=[17700, 67450, 105700, 201750, 256200, 640600])),
}
LINE1G = dict(mfj=12900, single=8600, hoh=8600)


def standard(year, fs):
    y = YEARS[year]
    z = D(y["sd"][fs] - LINE1G[fs])
    rows = [(D(0), D(0), D(0)), (z, D(0), RATES[0])]
    edges = [D(e) for e in y["edges"][fs]]
    c = D(0)
    prev = D(0)
    for i, e in enumerate(edges):
        c += (e - prev) * RATES[i]
        rows.append((z + e, c, RATES[i + 1]))
        prev = e
    return rows


def checkbox(year, fs):
    y = YEARS[year]
    z = D(y["sd"][fs]) / 2
    std = standard(year, fs)
    rows = [(D(0), D(0), D(0)), (z, D(0), RATES[0])]
    for i, e in enumerate(y["edges"][fs]):
        a = (z + D(e) / 2).quantize(D(1), rounding=ROUND_HALF_UP)
        cc = (std[i + 2][1] / 2).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        rows.append((a, cc, RATES[i + 1]))
    return rows


def fmt(rows):
    return "\n".join(
        f'  {{ over = "{a.normalize():f}", base = "{c.quantize(D("0.01"))}", rate = "{r}" }},' for a, c, r in rows
    )


if __name__ == "__main__":
    year = int(sys.argv[1])
    for kind, fn in (("standard", standard), ("checkbox", checkbox)):
        for fs, name in (("mfj", "married_filing_jointly"), ("single", "single"), ("hoh", "head_of_household")):
            print(f"{kind}.{name} = [\n{fmt(fn(year, fs))}\n]")
