"""The dashboard's own words in English ("en") and Persian ("fa"), and the names of its controls;
goals, indicators and values come from `experiments.report.words.Words`."""

from __future__ import annotations

from experiments.errors import FlagError
from experiments.formatting import DIGITS, persian_digits
from experiments.report.words import Words

__all__ = ["CONTROL_NAMES", "DASHBOARD_TEXT", "PageWords"]

DASHBOARD_TEXT = {
    "en": {
        "title": "Iran's small industry: policy workshop",
        "scenario": "Scenario",
        "settings_from": "Levers and uncertainties from",
        "seed": "Seed",
        "scale": "Scale (share of the 85,000 units simulated)",
        "province": "Province for province targeting",
        "cluster": "Cluster for cluster targeting",
        "budget": "{lever} (USD m/year)",
        "targeting": "Targeting: {lever}",
        "month": "Month {month}",
        "status": "{scenario}, scale {scale}, seed {seed}; last step with baseline {ms} ms",
        "this_run": "this run",
        "baseline": "baseline",
        "target": "target {value}",
        "axis_month": "month",
        "col_goal": "goal",
        "col_run": "this run",
        "col_baseline": "baseline",
        "col_met": "target met",
        "met": "met",
        "missed": "missed",
        "not_yet": "not yet",
        "unit_thousand_units": "thousand units",
        "unit_usd_bn_year": "USD bn a year",
        "unit_percent": "%",
        "units_title": "Units by status (thousand)",
        "exports_title": "SME exports by destination",
        "size_title": "Active units by employees",
        "size_axis": "active units",
        "province_title": "Active units, top 15 provinces",
        "consortia_title": "Export consortia",
        "consortia_axis": "consortia",
        "units_now": "Units now (national scale)",
        "write_report": "Write report",
        "report_written": "report written: {path}",
        "report_failed": "could not write the report: {error}",
        "ranking_note": "{lever}: ranking targeting needs a ranking budget > 0; using all",
        "seed_note": "seed {text!r} is not a whole number >= 0; using seed 1",
    },
    "fa": {
        "title": "صنایع کوچک ایران: کارگاه سیاست‌گذاری",
        "scenario": "سناریو",
        "settings_from": "اهرم‌ها و عدم قطعیت‌ها از",
        "seed": "بذر تصادفی",
        "scale": "مقیاس (سهم شبیه‌سازی‌شده از ۸۵٬۰۰۰ واحد)",
        "province": "استان برای هدف‌گیری استانی",
        "cluster": "خوشه برای هدف‌گیری خوشه‌ای",
        "budget": "{lever} (میلیون دلار/سال)",
        "targeting": "هدف‌گیری: {lever}",
        "month": "ماه {month}",
        "status": "{scenario}، مقیاس {scale}، بذر {seed}؛ آخرین گام همراه با مبنا {ms} میلی‌ثانیه",
        "this_run": "این اجرا",
        "baseline": "مبنا (سیاست‌های کنونی)",
        "target": "هدف {value}",
        "axis_month": "ماه",
        "col_goal": "هدف",
        "col_run": "این اجرا",
        "col_baseline": "مبنا",
        "col_met": "تحقق هدف",
        "met": "محقق",
        "missed": "محقق نشد",
        "not_yet": "هنوز نه",
        "unit_thousand_units": "هزار واحد",
        "unit_usd_bn_year": "میلیارد دلار در سال",
        "unit_percent": "درصد",
        "units_title": "واحدها بر حسب وضعیت (هزار)",
        "exports_title": "صادرات بنگاه‌های کوچک و متوسط بر حسب مقصد",
        "size_title": "واحدهای فعال بر حسب تعداد کارکنان",
        "size_axis": "واحد فعال",
        "province_title": "واحدهای فعال، ۱۵ استان نخست",
        "consortia_title": "کنسرسیوم‌های صادراتی",
        "consortia_axis": "کنسرسیوم",
        "units_now": "واحدها اکنون (مقیاس ملی)",
        "write_report": "نوشتن گزارش",
        "report_written": "گزارش نوشته شد: {path}",
        "report_failed": "گزارش نوشته نشد: {error}",
        "ranking_note": "{lever}: هدف‌گیری با رتبه‌بندی به بودجهٔ رتبه‌بندی نیاز دارد؛ همهٔ واحدها هدف‌اند",
        "seed_note": "بذر {text!r} عدد صحیح نامنفی نیست؛ بذر ۱ به کار رفت",
    },
}

# Names of the dashboard's budget controls ((lever, setting) as in experiments.dashboard.app.BUDGETS),
# of the levers in targeting controls, of unit statuses and of the four uncertainties on the page.
CONTROL_NAMES = {
    "en": {
        ("training", "budget_usd"): "Training and fairs",
        ("clinics", "budget_usd"): "Clinics",
        ("consortia", "budget_usd"): "Consortia",
        ("clusters", "budget_usd"): "Cluster projects",
        ("sukuk", "budget_usd"): "Sukuk issuance subsidy",
        ("listing", "budget_usd"): "Listing support",
        ("infrastructure", "budget_usd"): "Park infrastructure",
        ("rural_zones", "budget_usd"): "Rural zones",
        ("matchmaking", "budget_usd"): "Matchmaking",
        ("technology", "budget_usd"): "Technology",
        ("credit", "grants_usd"): "Grants",
        ("credit", "subsidised_credit_usd"): "Subsidised credit",
        ("ranking", "budget_usd"): "Top-100 ranking",
        "training": "training and fairs",
        "clinics": "clinics",
        "consortia": "consortia",
        "clusters": "clusters",
        "listing": "listing support",
        "infrastructure": "park infrastructure",
        "rural_zones": "rural zones",
        "matchmaking": "matchmaking",
        "technology": "technology",
        "under_construction": "under construction",
        "active": "active",
        "idle": "idle",
        "closed": "closed",
        "inflation_rate": "inflation rate",
        "real_exchange_rate_drift": "real exchange-rate drift",
        "foreign_demand_growth": "foreign demand growth",
        "sanctions_risk_multiplier": "sanctions risk multiplier",
        "per year": "per year",
        "multiplier": "multiplier",
    },
    "fa": {
        ("training", "budget_usd"): "آموزش و نمایشگاه",
        ("clinics", "budget_usd"): "کلینیک صنعتی",
        ("consortia", "budget_usd"): "کنسرسیوم‌ها",
        ("clusters", "budget_usd"): "طرح‌های خوشه‌ای",
        ("sukuk", "budget_usd"): "یارانهٔ صکوک",
        ("listing", "budget_usd"): "پذیرش در بورس",
        ("infrastructure", "budget_usd"): "زیرساخت شهرک‌ها",
        ("rural_zones", "budget_usd"): "نواحی روستایی",
        ("matchmaking", "budget_usd"): "پیوند زنجیرهٔ تأمین",
        ("technology", "budget_usd"): "فناوری و استاندارد",
        ("credit", "grants_usd"): "کمک بلاعوض",
        ("credit", "subsidised_credit_usd"): "اعتبار یارانه‌ای",
        ("ranking", "budget_usd"): "رتبه‌بندی ۱۰۰ واحد برتر",
        "training": "آموزش و نمایشگاه‌ها",
        "clinics": "کلینیک‌های صنعتی",
        "consortia": "کنسرسیوم‌ها",
        "clusters": "خوشه‌ها",
        "listing": "حمایت از پذیرش در بورس",
        "infrastructure": "زیرساخت شهرک‌ها",
        "rural_zones": "نواحی روستایی",
        "matchmaking": "پیوند زنجیرهٔ تأمین",
        "technology": "فناوری و استاندارد",
        "under_construction": "در دست ساخت",
        "active": "فعال",
        "idle": "راکد",
        "closed": "تعطیل",
        "inflation_rate": "نرخ تورم",
        "real_exchange_rate_drift": "روند نرخ واقعی ارز",
        "foreign_demand_growth": "رشد تقاضای خارجی",
        "sanctions_risk_multiplier": "ضریب خطر تحریم",
        "per year": "در سال",
        "multiplier": "ضریب",
    },
}


class PageWords(Words):
    """Words (goals, indicators, values) plus the dashboard's own; `html` applies the digits."""

    def __init__(self, lang: str = "en", digits: str = "latin"):
        super().__init__(lang)
        if digits not in DIGITS:
            raise FlagError("--digits", f"must be one of {', '.join(DIGITS)}, got {digits!r}")
        self.digits = digits
        self.page, self.names = DASHBOARD_TEXT[lang], CONTROL_NAMES[lang]

    def say(self, key: str, **fields) -> str:
        return self.page[key].format(**fields)

    def html(self, markup: str) -> str:
        """Markup (HTML or SVG) with Persian digits in its text when asked for (never in tags)."""
        return persian_digits(markup) if self.digits == "persian" else markup
