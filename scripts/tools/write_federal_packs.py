#!/usr/bin/env python3
"""Write shared/domain/rules/us-federal-YYYY.toml from the figures below (sources inline).

The FIT tables come from derive_fit_tables.py; the domain's tests check them against the
published Pub 15-T rows and the worked vectors.
"""
import subprocess, sys, os
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from derive_fit_tables import standard, checkbox, fmt

COMMON = {
    "ss_rate": ("0.062", "IRC 3101(a)/3111(a); IRS Pub 15 (2025) section 9: 6.2% each for employee and employer"),
    "medicare_rate": ("0.0145", "IRC 3101(b)(1)/3111(b); IRS Pub 15 (2025) section 9: 1.45% each"),
    "addl_medicare_rate": ("0.009", "IRC 3101(b)(2); IRS Pub 15 (2025) section 9: 0.9% employee only"),
    "addl_medicare_threshold": ("200000", "IRC 3102(f)(1); IRS Pub 15 (2025) section 9: withhold on wages over $200,000 in the calendar year, regardless of filing status"),
    "futa_rate": ("0.060", "IRC 3301; IRS Pub 15 (2025) section 14: 6.0%"),
    "futa_max_credit": ("0.054", "IRC 3302; IRS Pub 15 (2025) section 14: credit up to 5.4% for state contributions"),
    "futa_wage_base": ("7000", "IRC 3306(b)(1); IRS Pub 15 (2025) section 14: first $7,000 per employee"),
    "supplemental_rate": ("0.22", "IRS Pub 15 (2025) section 7: optional flat rate 22% on supplemental wages"),
    "supplemental_mandatory_rate": ("0.37", "IRS Pub 15 (2025) section 7: mandatory 37% on supplemental wages over $1,000,000"),
    "supplemental_mandatory_threshold": ("1000000", "IRS Pub 15 (2025) section 7 / Treas. Reg. 31.3402(g)-1(a)(2)"),
    "w4_line1g_mfj": ("12900", "IRS Pub 15-T Worksheet 1A line 1g: $12,900 if married filing jointly"),
    "w4_line1g_other": ("8600", "IRS Pub 15-T Worksheet 1A line 1g: $8,600 otherwise"),
    "w4_2019_allowance": ("4300", "IRS Pub 15-T Worksheet 1A line 1k: $4,300 per allowance (2019-or-earlier Form W-4)"),
    "flsa_minimum_wage": ("7.25", "29 USC 206(a)(1)(C): $7.25 per hour since 2009-07-24"),
    "flsa_tipped_cash_wage": ("2.13", "29 USC 203(m)(2)(A); DOL Fact Sheet #15: minimum cash wage $2.13, maximum tip credit $5.12"),
    "flsa_overtime_threshold_hours": ("40", "29 USC 207(a)(1): over 40 hours in a workweek at 1.5x the regular rate"),
    "ccpa_creditor_percent": ("0.25", "15 USC 1673(a)(1): 25% of disposable earnings"),
    "ccpa_min_wage_multiple": ("30", "15 USC 1673(a)(2): disposable earnings above 30 x federal minimum hourly wage per week are garnishable"),
}
YEARLY = {
    2024: {
        "ss_wage_base": ("168600", "SSA 2024 contribution and benefit base $168,600 (SSA fact sheet, Oct 2023)"),
        "elective_deferral_limit": ("23000", "IRS Notice 2023-75: 402(g) limit $23,000 for 2024"),
        "hsa_limit_self": ("4150", "IRS Rev. Proc. 2023-23: HSA self-only $4,150 for 2024"),
        "hsa_limit_family": ("8300", "IRS Rev. Proc. 2023-23: HSA family $8,300 for 2024"),
        "health_fsa_limit": ("3200", "IRS Rev. Proc. 2023-34 section 3.16: health FSA $3,200 for 2024"),
        "dependent_care_limit": ("5000", "IRC 129(a)(2)(A): dependent care assistance $5,000"),
    },
    2025: {
        "ss_wage_base": ("176100", "SSA 2025 contribution and benefit base $176,100; IRS Pub 15 (2025) p. 2"),
        "elective_deferral_limit": ("23500", "IRS Notice 2024-80: 402(g) limit $23,500 for 2025"),
        "hsa_limit_self": ("4300", "IRS Rev. Proc. 2024-25: HSA self-only $4,300 for 2025"),
        "hsa_limit_family": ("8550", "IRS Rev. Proc. 2024-25: HSA family $8,550 for 2025"),
        "health_fsa_limit": ("3300", "IRS Rev. Proc. 2024-40 section 3.16: health FSA $3,300 for 2025"),
        "dependent_care_limit": ("5000", "IRC 129(a)(2)(A): dependent care assistance $5,000"),
    },
    2026: {
        "ss_wage_base": ("184500", "SSA 2026 contribution and benefit base $184,500 (SSA determination, Oct 2025)"),
        "elective_deferral_limit": ("24500", "IRS Notice 2025-67: 402(g) limit $24,500 for 2026"),
        "hsa_limit_self": ("4400", "IRS Rev. Proc. 2025-19: HSA self-only $4,400 for 2026"),
        "hsa_limit_family": ("8750", "IRS Rev. Proc. 2025-19: HSA family $8,750 for 2026"),
        "health_fsa_limit": ("3400", "IRS Rev. Proc. 2025-32: health FSA $3,400 for 2026"),
        "dependent_care_limit": ("7500", "IRC 129(a)(2)(A) as amended by Pub. L. 119-21 (OBBBA) section 70404: $7,500 from 2026"),
    },
}
FIT_SOURCE = {
    2024: "IRS Pub 15-T (2024) Worksheet 1A annual percentage-method tables; rows derived from Rev. Proc. 2023-34 brackets and standard deductions 14,600/29,200/21,900 by the Pub 15-T construction (reproduces python-taxes' 14 published 2024 expectations)",
    2025: "IRS Pub 15-T (2025) Worksheet 1A annual percentage-method tables (Rev. Proc. 2024-40 brackets; standard deductions 15,000/30,000/22,500); all 48 rows agree with python-taxes 0.7.0",
    2026: "IRS Pub 15-T (2026) Worksheet 1A annual percentage-method tables (Rev. Proc. 2025-32 brackets; standard deductions 16,100/32,200/24,150); agrees with suburbancomputer.com 2026 schedules except HoH row 2 (15,550 by construction)",
}

ORDER = ["ss_rate", "ss_wage_base", "medicare_rate", "addl_medicare_rate", "addl_medicare_threshold",
         "futa_rate", "futa_max_credit", "futa_wage_base", "supplemental_rate", "supplemental_mandatory_rate",
         "supplemental_mandatory_threshold", "w4_line1g_mfj", "w4_line1g_other", "w4_2019_allowance",
         "flsa_minimum_wage", "flsa_tipped_cash_wage", "flsa_overtime_threshold_hours", "elective_deferral_limit",
         "hsa_limit_self", "hsa_limit_family", "health_fsa_limit", "dependent_care_limit",
         "ccpa_creditor_percent", "ccpa_min_wage_multiple"]

for year in (2024, 2025, 2026):
    vals = dict(COMMON, **YEARLY[year])
    out = [f"# US federal payroll parameters for {year}. Generated by scripts/tools/write_federal_packs.py;",
           "# edit the script, not this file. Each value names its public source.",
           'jurisdiction = "US"', f"year = {year}", f'version = "{year}.1"',
           f'valid_from = "{year}-01-01"', f'valid_to = "{year}-12-31"', "", "[params]"]
    for k in ORDER:
        v, s = vals[k]
        out.append(f'{k} = {{ value = "{v}", source = "{s}" }}')
    out += ["", "[fit]", f'source = "{FIT_SOURCE[year]}"']
    for kind, fn in (("standard", standard), ("checkbox", checkbox)):
        for fs, name in (("mfj", "married_filing_jointly"), ("single", "single"), ("hoh", "head_of_household")):
            out.append(f"{kind}.{name} = [\n{fmt(fn(year, fs))}\n]")
    path = os.path.join(HERE, "..", "..", "shared", "domain", "rules", f"us-federal-{year}.toml")
    open(path, "w").write("\n".join(out) + "\n")
    print("wrote", os.path.normpath(path))
