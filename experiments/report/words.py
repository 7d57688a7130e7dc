"""The words of `smesim report` (and of the goals, indicators and values the dashboard shows),
in English ("en") and Persian ("fa").

`TEXT[lang][key]` is a string, some with `str.format` fields; `INDICATOR_NAMES[lang]` names the
indicators a goal can be on (others keep their identifier). Persian digits are applied to the
finished HTML by `experiments.formatting.persian_digits`.
"""

from __future__ import annotations

import math

from experiments.errors import FlagError
from experiments.formatting import format_change, format_count, format_percent, format_value
from experiments.inputs.goals import Goal
from simulation.parameters import parameter_metadata
from simulation.policy import LEVER_DESCRIPTIONS, LEVERS

__all__ = ["INDICATOR_NAMES", "LANGUAGES", "LEVER_NAMES", "SETTING_NAMES", "TEXT", "UNIT_WORDS", "Words"]

LANGUAGES = ("en", "fa")

TEXT = {
    "en": {
        "title_run": "Simulation report: {name}",
        "title_comparison": "Simulation report: {names} compared with {reference}",
        "title_sweep": "Simulation report: sweep {name}",
        "title_sweep_named": "Simulation report: {name}",
        "headline": "In short",
        "hl_value": "{group}: {indicator} {value} by month {month}",
        "hl_change": ", {change} against {reference}",
        "hl_cost": ", at a fiscal cost of {cost}",
        "hl_goals": "; it meets {met} of {n} goals (in at least half of its {member_word}).",
        "hl_some_unchecked": "; it meets {met} of the {checked} goals that can be checked by month {horizon} "
        "({n} in all; the others are for a later month).",
        "hl_unchecked": "; its goals cannot be checked yet: they are for month {month}, the runs end at month "
        "{horizon}.",
        "hl_noise": "The difference in {indicator} cannot be told apart from the model's noise.",
        "hl_per_job": "Each extra job costs {cost} ({jobs} more jobs for {extra} more spending).",
        "hl_best": "Of the {n} policies compared with {reference}, {group} meets the most goals.",
        "cost": "Cost",
        "cost_note": "The government's fiscal cost of the policies, cumulative to month {horizon} (budgets "
        "spent, grants, the issuance subsidy and the credit line's cost); the ratios divide the extra "
        "cost against {reference} by the extra jobs and by the extra yearly exports at month {horizon}.",
        "col_cost": "fiscal cost to month {horizon}",
        "col_extra_cost": "extra cost",
        "col_per_job": "per extra job",
        "col_per_export": "per extra dollar of yearly exports",
        "per_job": "{cost} per extra job",
        "per_export": "{cost} per extra dollar of yearly exports",
        "not_defined_gain": "not defined: no extra {what}",
        "no_extra_cost": "no extra cost",
        "what_jobs": "jobs",
        "what_exports": "exports",
        "no_interval": "no interval with a single pair",
        "n_replication": "{n} replication|{n} replications",
        "n_run": "{n} run|{n} runs",
        "n_month": "{n} month|{n} months",
        "n_pair": "{n} pair|{n} pairs",
        "settings_text": "seed {seed}, {replications}, {months}, {scale} of the real population",
        "design_text": "{kind} design",
        "factor_values": "{name}: {values}",
        "factor_range": "{name}: {low} to {high}",
        "or": "or",
        "command_line": "set on the command line",
        "sep": "; ",
        "comma": ", ",
        "cl_seed": "seed",
        "cl_replications": "replications",
        "cl_months": "months",
        "cl_scale": "scale",
        "provenance_summary": "Provenance: code version, seeds, files and checksums",
        "print_provenance": "Provenance (code version, seeds, files, checksums): open the HTML file.",
        "lever_setting": "{lever}, {setting}",
        "policy_levers": "policy {name}: levers",
        "today": "none: today's policies",
        "all": "all",
        "summary": "Summary",
        "inputs_differ": (
            "Warning: the inputs recorded in {file} differ from the scenario text stored in it, at {n} "
            "key(s): {keys}. The inputs and goals in this report are those of the stored text; the "
            "recorded ones cannot be checked (smesim replay re-runs the text and says whether it "
            "gives these results)."
        ),
        "spec_differs": (
            "Warning: the resolved specification recorded in {file} differs from the spec text stored "
            "in it (with the scenario files that text names, as they are now), at {n} key(s): {keys}. "
            "The inputs and goals in this report are those of the stored text."
        ),
        "results_changed": (
            "Warning: {file} does not have the sha256 its manifest records: the results were changed "
            "after the run (smesim replay says which values)."
        ),
        "recorded_vs": "{key}: {recorded} recorded, {derived} from the text",
        "more_keys": "... ({n} in all)",
        "caveat": (
            "These are results of a simulation model, not forecasts. {members} per "
            "{group_word} at {scale} of the real population, over {months}. The bands and "
            "intervals show how much the results vary between {member_word} of the model; the real "
            "economy is more uncertain than that."
        ),
        "member_run": "replications",
        "member_run_one": "replication",
        "member_sweep_one": "run",
        "member_sweep": "runs",
        "group_run": "scenario",
        "group_sweep": "policy",
        "goal_unchecked": "{goal}: cannot be checked, the runs end at month {horizon}, before month {month}.",
        "goal_state": "{goal} (target {target} at month {month}): {group} meets it in {met} of {n} {member_word} "
        "(mean {value}).",
        "goal_change": "{group}: meets it in {met} of {n} (mean {value}); a change of {change} against "
        "{reference} ({interval}).",
        "goal_change_sweep": "{group}: meets it in {met} of {n} (mean {value}); probability {probability} "
        "({interval}).",
        "interval": "{confidence:.0%} interval {low} to {high}",
        "not_distinguishable": "The interval includes zero: the effect cannot be told apart from the model's noise.",
        "distinguishable": "The interval excludes zero.",
        "few_members": "With only {n} the intervals are wide: treat them as rough.",
        "figures": "Figures",
        "fig_trajectories": (
            "Each goal's indicator month by month: the line is the mean over {member_word}, the "
            "band the {band} range; dashed lines are the targets, the dotted line the goal's month."
        ),
        "fig_comparison": (
            "Effect of each {group_word} against {reference} at month {horizon}: mean paired "
            "difference with its {confidence:.0%} confidence interval; zero means no effect."
        ),
        "fig_goals": (
            "Probability of meeting each goal at its month (share of {member_word}) with its "
            "{confidence:.0%} Wilson interval."
        ),
        "fig_sensitivity": (
            "Sobol sensitivity indices of each goal's indicator at the final month: first order "
            "(S1, the factor alone) and total (ST, with its interactions), with "
            "{confidence:.0%} bootstrap intervals."
        ),
        "panels": "Panels",
        "axes": "Horizontal axis: {x}. Vertical axis: {y}.",
        "axis_month": "months since the start",
        "axis_probability": "probability of meeting the goal (%)",
        "axis_index": "sensitivity index (0 to 1)",
        "axis_difference": "difference ({unit})",
        "band_minmax": "min–max",
        "band_quantile": "5–95%",
        "goal_table": "Goals",
        "col_goal": "goal",
        "col_target": "target",
        "col_month": "month",
        "col_group": "scenario / policy",
        "col_value": "value: mean (min to max)",
        "col_met": "met",
        "col_change": "change against the reference",
        "col_probability": "probability (interval)",
        "col_indicator": "indicator",
        "col_difference": "difference (interval)",
        "col_reference": "reference",
        "col_factor": "factor",
        "col_first": "S1 (interval)",
        "col_total": "ST (interval)",
        "col_outcome": "outcome",
        "met_of": "{met} of {n}",
        "not_checked": "not checked",
        "reference": "reference",
        "comparison_table": "Comparison at month {horizon}",
        "sensitivity_table": "Sensitivity",
        "inputs": "Inputs",
        "inputs_note": "Lever settings that differ from the defaults (no lever: today's policies), "
        "uncertainties, constants and shocks as given in the scenario.",
        "settings": "run settings",
        "levers": "levers (differing from the defaults)",
        "uncertainties": "uncertainties",
        "constants": "constants",
        "shocks": "shocks",
        "none": "none",
        "spec": "sweep specification",
        "provenance": "Provenance",
        "provenance_note": "From the manifest written with the results: enough to reproduce them (smesim replay).",
        "key": "item",
        "value": "value",
        "unit_usd": "USD",
        "unit_usd_bn": "USD bn",
        "unit_usd_m": "USD m",
        "unit_percent": "%",
        "unit_pp": "percentage points",
        "unit_count": "count",
        "unit_count_k": "thousands",
        "bn": "bn",
        "m": "m",
        "pp": "pp",
        "to": "to",
        "na": "no data",
    },
    "fa": {
        "title_run": "گزارش شبیه‌سازی: {name}",
        "title_comparison": "گزارش شبیه‌سازی: مقایسهٔ {names} با {reference}",
        "title_sweep": "گزارش شبیه‌سازی: مجموعه اجرای {name}",
        "title_sweep_named": "گزارش شبیه‌سازی: {name}",
        "headline": "به طور خلاصه",
        "hl_value": "{group}: {indicator} {value} تا ماه {month}",
        "hl_change": "، {change} نسبت به {reference}",
        "hl_cost": "، با هزینهٔ مالی {cost}",
        "hl_goals": "؛ به {met} از {n} هدف می‌رسد (دست کم در نیمی از {member_word}).",
        "hl_some_unchecked": "؛ به {met} از {checked} هدفی که تا ماه {horizon} قابل بررسی‌اند می‌رسد "
        "({n} هدف در کل؛ بقیه برای ماهی دیرتر هستند).",
        "hl_unchecked": "؛ هدف‌های آن هنوز قابل بررسی نیستند: برای ماه {month} هستند و اجراها در ماه "
        "{horizon} پایان می‌یابند.",
        "hl_noise": "تفاوت در {indicator} از نوسان تصادفی مدل قابل تشخیص نیست.",
        "hl_per_job": "هر شغل اضافی {cost} هزینه دارد ({jobs} شغل بیشتر با {extra} هزینهٔ بیشتر).",
        "hl_best": "از {n} سیاستی که با {reference} مقایسه شده‌اند، {group} به بیشترین هدف‌ها می‌رسد.",
        "cost": "هزینه",
        "cost_note": "هزینهٔ مالی سیاست‌ها برای دولت، انباشته تا ماه {horizon} (بودجه‌های خرج‌شده، کمک‌های "
        "بلاعوض، یارانهٔ انتشار و هزینهٔ خط اعتباری)؛ نسبت‌ها هزینهٔ اضافی نسبت به {reference} را بر "
        "شغل‌های اضافی و بر صادرات سالانهٔ اضافی در ماه {horizon} تقسیم می‌کنند.",
        "col_cost": "هزینهٔ مالی تا ماه {horizon}",
        "col_extra_cost": "هزینهٔ اضافی",
        "col_per_job": "برای هر شغل اضافی",
        "col_per_export": "برای هر دلار صادرات سالانهٔ اضافی",
        "per_job": "{cost} برای هر شغل اضافی",
        "per_export": "{cost} برای هر دلار صادرات سالانهٔ اضافی",
        "not_defined_gain": "تعریف‌نشده: بدون {what} اضافی",
        "no_extra_cost": "بدون هزینهٔ اضافی",
        "what_jobs": "شغل",
        "what_exports": "صادرات",
        "no_interval": "با یک جفت، بازه‌ای در کار نیست",
        "n_replication": "{n} تکرار|{n} تکرار",
        "n_run": "{n} اجرا|{n} اجرا",
        "n_month": "{n} ماه|{n} ماه",
        "n_pair": "{n} جفت|{n} جفت",
        "settings_text": "بذر {seed}، {replications}، {months}، {scale} جمعیت واقعی",
        "design_text": "طرح {kind}",
        "factor_values": "{name}: {values}",
        "factor_range": "{name}: {low} تا {high}",
        "or": "یا",
        "command_line": "تعیین‌شده در خط فرمان",
        "sep": "؛ ",
        "comma": "، ",
        "cl_seed": "بذر",
        "cl_replications": "تکرارها",
        "cl_months": "ماه‌ها",
        "cl_scale": "مقیاس",
        "provenance_summary": "منشأ: نسخهٔ کد، بذرها، فایل‌ها و چکیده‌ها",
        "print_provenance": "منشأ (نسخهٔ کد، بذرها، فایل‌ها، چکیده‌ها): فایل HTML را باز کنید.",
        "lever_setting": "{lever}، {setting}",
        "policy_levers": "سیاست {name}: اهرم‌ها",
        "today": "هیچ: سیاست‌های کنونی",
        "all": "همه",
        "summary": "خلاصه",
        "inputs_differ": (
            "هشدار: ورودی‌های ثبت‌شده در {file} در {n} کلید با متن سناریوی ذخیره‌شده در همان فایل فرق "
            "دارند: {keys}. ورودی‌ها و هدف‌های این گزارش از متن ذخیره‌شده‌اند؛ ورودی‌های ثبت‌شده را "
            "نمی‌توان سنجید (smesim replay متن را دوباره اجرا می‌کند و می‌گوید که آیا همین نتایج را می‌دهد)."
        ),
        "spec_differs": (
            "هشدار: مشخصات مجموعه اجرای ثبت‌شده در {file} در {n} کلید با متن مشخصاتِ ذخیره‌شده در همان "
            "فایل (با فایل‌های سناریویی که آن متن نام می‌برد، چنان‌که اکنون هستند) فرق دارد: {keys}. "
            "ورودی‌ها و هدف‌های این گزارش از متن ذخیره‌شده‌اند."
        ),
        "results_changed": (
            "هشدار: sha256 فایل {file} با آنچه manifest آن ثبت کرده نمی‌خواند: نتایج پس از اجرا تغییر "
            "کرده‌اند (smesim replay می‌گوید کدام مقدارها)."
        ),
        "recorded_vs": "{key}: ثبت‌شده {recorded}، از متن {derived}",
        "more_keys": "... ({n} در کل)",
        "caveat": (
            "این‌ها نتایج یک مدل شبیه‌سازی است، نه پیش‌بینی. {members} برای هر {group_word}، "
            "با {scale} جمعیت واقعی، در {months}. نوارها و بازه‌ها نشان می‌دهند نتایج میان "
            "{member_word} مدل چقدر تغییر می‌کند؛ عدم قطعیت اقتصاد واقعی بیش از این است."
        ),
        "member_run": "تکرار",
        "member_run_one": "تکرار",
        "member_sweep_one": "اجرا",
        "member_sweep": "اجرا",
        "group_run": "سناریو",
        "group_sweep": "سیاست",
        "goal_unchecked": "{goal}: قابل بررسی نیست؛ اجراها در ماه {horizon} پایان می‌یابند، پیش از ماه {month}.",
        "goal_state": "{goal} (هدف {target} در ماه {month}): {group} در {met} از {n} {member_word} به آن می‌رسد "
        "(میانگین {value}).",
        "goal_change": "{group}: در {met} از {n} به آن می‌رسد (میانگین {value})؛ تغییر {change} نسبت به "
        "{reference} ({interval}).",
        "goal_change_sweep": "{group}: در {met} از {n} به آن می‌رسد (میانگین {value})؛ احتمال {probability} "
        "({interval}).",
        "interval": "بازهٔ {confidence:.0%}: {low} تا {high}",
        "not_distinguishable": "بازه صفر را در بر دارد: اثر از نوسان تصادفی مدل قابل تشخیص نیست.",
        "distinguishable": "بازه صفر را در بر ندارد.",
        "few_members": "با تنها {n} بازه‌ها پهن‌اند: آن‌ها را تقریبی بدانید.",
        "figures": "نمودارها",
        "fig_trajectories": (
            "شاخص هر هدف ماه به ماه: خط، میانگین {member_word} است و نوار، دامنهٔ {band}؛ "
            "خط‌چین‌ها هدف‌ها هستند و خط نقطه‌چین ماه هدف."
        ),
        "fig_comparison": (
            "اثر هر {group_word} نسبت به {reference} در ماه {horizon}: میانگین تفاوت جفتی با "
            "بازهٔ اطمینان {confidence:.0%}؛ صفر یعنی بی‌اثر."
        ),
        "fig_goals": "احتمال رسیدن به هر هدف در ماه آن (سهم {member_word}) با بازهٔ ویلسون {confidence:.0%}.",
        "fig_sensitivity": (
            "شاخص‌های حساسیت سوبول برای شاخص هر هدف در ماه پایانی: مرتبهٔ اول (S1، عامل به "
            "تنهایی) و کل (ST، با برهم‌کنش‌ها)، با بازه‌های بوت‌استرپ {confidence:.0%}."
        ),
        "panels": "بخش‌های نمودار",
        "axes": "محور افقی: {x}. محور عمودی: {y}.",
        "axis_month": "ماه از آغاز",
        "axis_probability": "احتمال رسیدن به هدف (درصد)",
        "axis_index": "شاخص حساسیت (صفر تا یک)",
        "axis_difference": "تفاوت ({unit})",
        "band_minmax": "کمینه تا بیشینه",
        "band_quantile": "صدک ۵ تا ۹۵",
        "goal_table": "هدف‌ها",
        "col_goal": "هدف",
        "col_target": "مقدار هدف",
        "col_month": "ماه",
        "col_group": "سناریو / سیاست",
        "col_value": "مقدار: میانگین (کمینه تا بیشینه)",
        "col_met": "تحقق",
        "col_change": "تغییر نسبت به مرجع",
        "col_probability": "احتمال (بازه)",
        "col_indicator": "شاخص",
        "col_difference": "تفاوت (بازه)",
        "col_reference": "مرجع",
        "col_factor": "عامل",
        "col_first": "S1 (بازه)",
        "col_total": "ST (بازه)",
        "col_outcome": "پیامد",
        "met_of": "{met} از {n}",
        "not_checked": "بررسی نشده",
        "reference": "مرجع",
        "comparison_table": "مقایسه در ماه {horizon}",
        "sensitivity_table": "حساسیت",
        "inputs": "ورودی‌ها",
        "inputs_note": "تنظیمات اهرم‌هایی که با پیش‌فرض فرق دارند (بدون اهرم: سیاست‌های کنونی)، عدم قطعیت‌ها، "
        "ثابت‌ها و شوک‌ها، چنان‌که در سناریو آمده‌اند.",
        "settings": "تنظیمات اجرا",
        "levers": "اهرم‌ها (متفاوت با پیش‌فرض)",
        "uncertainties": "عدم قطعیت‌ها",
        "constants": "ثابت‌ها",
        "shocks": "شوک‌ها",
        "none": "هیچ",
        "spec": "مشخصات مجموعه اجرا",
        "provenance": "منشأ",
        "provenance_note": "از فایل manifest که همراه نتایج نوشته شده است: برای بازتولید آن‌ها کافی است "
        "(smesim replay).",
        "key": "مورد",
        "value": "مقدار",
        "unit_usd": "دلار",
        "unit_usd_bn": "میلیارد دلار",
        "unit_usd_m": "میلیون دلار",
        "unit_percent": "درصد",
        "unit_pp": "واحد درصد",
        "unit_count": "تعداد",
        "unit_count_k": "هزار",
        "bn": "میلیارد",
        "m": "میلیون",
        "pp": "واحد درصد",
        "to": "تا",
        "na": "نامعلوم",
    },
}

INDICATOR_NAMES = {
    "en": {
        "units_activated": "units activated (each start counted)",
        "units_activated_distinct": "units activated",
        "active_units_change": "net change in active units",
        "exports_usd": "SME exports (USD a year)",
        "export_share": "SMEs' export share of output",
        "sme_employment_share": "SMEs' share of employment",
        "employment": "employment",
        "active_units": "active units",
        "policy_spend_usd": "fiscal cost of the policies (USD)",
    },
    "fa": {
        "units_activated": "دفعات فعال‌شدن واحدها",
        "units_activated_distinct": "واحدهای فعال‌شده",
        "active_units_change": "تغییر خالص واحدهای فعال",
        "exports_usd": "صادرات بنگاه‌های کوچک و متوسط (دلار در سال)",
        "export_share": "سهم صادرات از تولید بنگاه‌های کوچک و متوسط",
        "sme_employment_share": "سهم بنگاه‌های کوچک و متوسط از اشتغال",
        "employment": "اشتغال",
        "active_units": "واحدهای فعال",
        "policy_spend_usd": "هزینهٔ مالی سیاست‌ها برای دولت (دلار)",
    },
}

# A lever's name: in English the head of its description in simulation.policy; in Persian as the
# dashboard's controls name them.
LEVER_NAMES = {
    "en": {lever: text.split(":")[0].split(" for ")[0] for lever, text in LEVER_DESCRIPTIONS.items()},
    "fa": {
        "training": "آموزش و نمایشگاه‌ها",
        "clinics": "کلینیک‌های صنعتی",
        "consortia": "کنسرسیوم‌های صادراتی",
        "clusters": "توسعهٔ خوشه‌ها",
        "sukuk": "برنامهٔ صکوک",
        "listing": "حمایت از پذیرش در بورس",
        "infrastructure": "زیرساخت شهرک‌ها",
        "rural_zones": "نواحی صنعتی روستایی",
        "matchmaking": "پیوند زنجیرهٔ تأمین",
        "technology": "فناوری و استاندارد",
        "credit": "کمک بلاعوض و اعتبار یارانه‌ای",
        "ranking": "رتبه‌بندی بنگاه‌های برتر",
    },
}
# A lever's settings other than its budget (which the lever's name alone says).
SETTING_NAMES = {
    "en": {
        "cost_per_beneficiary_usd": "cost per beneficiary",
        "targeting": "targeting",
        "provinces": "provinces",
        "clusters": "clusters",
        "destinations": "trade-fair markets",
        "recognition": "legal recognition of consortia",
        "capacity_usd": "sukuk the programme can place",
        "issuance_subsidy_share": "share of issuance costs paid",
        "size": "SMEs ranked",
        "grants_usd": "grants",
        "subsidised_credit_usd": "subsidised credit line",
    },
    "fa": {
        "cost_per_beneficiary_usd": "هزینه برای هر ذی‌نفع",
        "targeting": "هدف‌گیری",
        "provinces": "استان‌ها",
        "clusters": "خوشه‌ها",
        "destinations": "بازارهای نمایشگاه",
        "recognition": "شناسایی حقوقی کنسرسیوم‌ها",
        "capacity_usd": "ظرفیت انتشار صکوک",
        "issuance_subsidy_share": "سهم پرداختی از هزینهٔ انتشار",
        "size": "بنگاه‌های رتبه‌بندی‌شده",
        "grants_usd": "کمک بلاعوض",
        "subsidised_credit_usd": "خط اعتبار یارانه‌ای",
    },
}
# The units of simulation.policy's settings and parameters, the targeting choices and the sweep designs.
UNIT_WORDS = {
    "en": {
        "a year": "a year",
        "a month": "a month",
        "provinces": "provinces",
        "SMEs": "SMEs",
        "latin_hypercube": "Latin hypercube",
        "sobol": "Sobol",
        "morris": "Morris",
    },
    "fa": {
        "a year": "در سال",
        "a month": "در ماه",
        "per year": "در سال",
        "per month": "در ماه",
        "factorial": "عاملی کامل",
        "latin_hypercube": "ابرمکعب لاتین",
        "sobol": "سوبول",
        "morris": "موریس",
        "provinces": "استان",
        "SMEs": "بنگاه",
        "all": "همه",
        "province": "استان",
        "cluster": "خوشه",
        "ranking": "رتبه‌بندی",
    },
}


class Words:
    def __init__(self, lang: str):
        if lang not in TEXT:
            raise FlagError("--lang", f"must be one of {', '.join(TEXT)}, got {lang!r}")
        self.lang, self.t = lang, TEXT[lang]

    def __call__(self, key: str, **fields) -> str:
        return self.t[key].format(**fields) if fields else self.t[key]

    def _localise(self, text: str) -> str:
        if text == "n/a":
            return self.t["na"]
        if self.lang == "en":
            return text
        for suffix in ("bn", "m", "pp"):
            if text.endswith(" " + suffix):
                return text[: -len(suffix)] + self.t[suffix]
        return text

    def value(self, indicator: str, value: float, like: float | None = None) -> str:
        return self._localise(format_value(indicator, value, like))

    def change(self, indicator: str, value: float, like: float | None = None) -> str:
        return self._localise(format_change(indicator, value, like))

    def percent(self, p: float) -> str:
        return self._localise(format_percent(p))

    def count(self, n: int, noun: str) -> str:
        """ "1 replication", "2 replications" (noun: replication, run, month, pair)."""
        one, many = self.t[f"n_{noun}"].split("|")
        return (one if n == 1 else many).format(n=format_count(n))

    def members(self, n: int, sweep: bool) -> str:
        """The word for n replications (or runs), without the number."""
        return self(("member_sweep" if sweep else "member_run") + ("_one" if n == 1 else ""))

    def money(self, value: float) -> str:
        """USD 5.0 m, USD 40,500 (Persian: ۵٫۰ میلیون دلار); no data when there is none."""
        small = value is not None and math.isfinite(value) and 0 < abs(value) < 100 and value != round(value)
        text = self._localise(format_value("ratio", value) if small else format_value("money_usd", value))
        if text == self.t["na"]:
            return text
        return f"USD {text}" if self.lang == "en" else f"{text} {self.t['unit_usd']}"

    def lever(self, lever: str, setting: str, value) -> str:
        """One lever setting in words: "Training and trade fairs: USD 5.0 m a year"."""
        name = LEVER_NAMES[self.lang].get(lever, lever)
        spec = LEVERS.get(lever, {}).get(setting)
        if not setting.startswith("budget"):
            name = self("lever_setting", lever=name, setting=SETTING_NAMES[self.lang].get(setting, setting))
        return f"{name}: {self.setting_value(value, spec.unit if spec else '')}"

    def setting_value(self, value, unit: str) -> str:
        units = UNIT_WORDS[self.lang]
        if isinstance(value, list | tuple):
            return ("، " if self.lang == "fa" else ", ").join(map(str, value)) if value else self("all")
        if isinstance(value, str):
            return units.get(value, value)
        if unit.startswith("USD"):
            per = unit.removeprefix("USD").strip()
            return self.money(value) + (f" {units.get(per, per)}" if per else "")
        if unit == "share":
            return self.value("x_share", value)
        text = format_count(value) if float(value) == round(value) else self.value("x", value)
        return f"{text} {units.get(unit, unit)}".strip()

    def parameter(self, name: str, value) -> str:
        """An uncertainty or constant: its description and unit (English) or name, and its value."""
        meta = parameter_metadata().get(name, {})
        label = (meta.get("doc") or name) if self.lang == "en" else name
        unit = meta.get("unit", "")
        shown = self.value("x", value) if isinstance(value, int | float) else str(value)
        per = UNIT_WORDS[self.lang].get(unit, unit) if self.lang == "fa" else unit
        return f"{label}: {shown} {per}".strip()

    def indicator(self, name: str) -> str:
        return INDICATOR_NAMES[self.lang].get(name, name)

    def goal(self, goal: Goal) -> str:
        return goal.label if self.lang == "en" else f"{self.indicator(goal.indicator)} {self.target(goal)}"

    def target(self, goal: Goal) -> str:
        low, high = (None if b is None else self.value(goal.indicator, b) for b in (goal.at_least, goal.at_most))
        if low is not None and high is not None:
            return f"{low} {self.t['to']} {high}"
        return f"≥ {low}" if low is not None else f"≤ {high}"

    def range(self, indicator: str, mean: float, low: float, high: float, fmt=None) -> str:
        fmt = fmt or self.value
        if not math.isfinite(mean):
            return self.t["na"]
        if low == high or not (math.isfinite(low) and math.isfinite(high)):
            return fmt(indicator, mean)
        like = max(abs(mean), abs(low), abs(high))  # the three in one unit: +0.1 m (-2.5 m to +2.7 m)
        ends = f"{fmt(indicator, low, like)} {self.t['to']} {fmt(indicator, high, like)}"
        return f"{fmt(indicator, mean, like)} ({ends})"
