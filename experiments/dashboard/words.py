"""The dashboard's own words in English ("en") and Persian ("fa"), and the names of its controls;
goals, indicators and values come from `experiments.report.words.Words`."""

from __future__ import annotations

from pathlib import Path

from experiments.errors import FlagError
from experiments.formatting import DIGITS, persian_digits
from experiments.report.words import Words

__all__ = ["CONTROL_NAMES", "DASHBOARD_TEXT", "PLACE_NAMES", "SCENARIO_NAMES", "SECTOR_NAMES", "PageWords"]

DASHBOARD_TEXT = {
    "en": {
        "title": "Iran's small industry: policy workshop",
        "scenario": "Scenario",
        "seed": "Seed",
        "scale": "Scale (share of the 85,000 units simulated)",
        "province": "Province for province targeting",
        "cluster": "Cluster for cluster targeting",
        "budget": "{lever} (USD m/year)",
        "targeting": "Targeting: {lever}",
        "month": "Month {month}",
        "status": "{scenario}, scale {scale}, seed {seed}; last step with the comparison {ms} ms",
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
        "report_written": "report written (kept on the server in {path})",
        "report_failed": "could not write the report: {error}",
        "ranking_note": "{lever}: ranking targeting needs a ranking budget > 0; using all",
        "seed_note": "seed {text!r} is not a whole number >= 0; using seed 1",
        "compare": "Compare with",
        "compare_policies": "today's policies under this run's shocks and uncertainties",
        "compare_baseline": "the baseline scenario (no shocks, default uncertainties)",
        "compare_short_policies": "today's policies",
        "compare_short_baseline": "baseline scenario",
        "compared_with": "this run compared with {comparison}",
        "budgets": "Lever budgets (USD m a year; type a value or drag)",
        "targeting_title": "Targeting",
        "uncertainties": "Uncertainties",
        "unit_musd_year": "USD m/yr",
        "plan_cost": "Plan: USD {cost} m a year",
        "reset": "Reset",
        "play": "Play",
        "pause": "Pause",
        "step": "Step",
        "building": "Building the run…",
        "no_run": "No run: press Reset",
        "building_note": "Building the run: {units} units and the comparison run (seconds at full scale)",
        "pending": "Not applied yet (press Reset to run with them): {changes}",
        "tab_goals": "Goals",
        "tab_economy": "Economy",
        "rule_all": "all eligible units",
        "rule_province": "the province below",
        "rule_cluster": "the cluster below",
        "rule_ranking": "the top-100 ranking",
        "save_scenario": "Save settings as a scenario file",
        "download_report": "Download the report",
        "report_writing": "Writing the report (a few seconds)…",
        "build_failed": "Could not build the run; correct the setting and press Reset: {error}",
        "report_needs_a_month": "Step at least one month to write a report.",
        "changed_plan": "{description}; levers or uncertainties changed on the dashboard",
        "scenario_comment": "Settings from smesim dashboard (started from {source}): for smesim run or a sweep",
    },
    "fa": {
        "title": "صنایع کوچک ایران: کارگاه سیاست‌گذاری",
        "scenario": "سناریو",
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
        "report_written": "گزارش نوشته شد (روی سرور در {path})",
        "report_failed": "گزارش نوشته نشد: {error}",
        "ranking_note": "{lever}: هدف‌گیری با رتبه‌بندی به بودجهٔ رتبه‌بندی نیاز دارد؛ همهٔ واحدها هدف‌اند",
        "seed_note": "بذر {text!r} عدد صحیح نامنفی نیست؛ بذر ۱ به کار رفت",
        "compare": "مقایسه با",
        "compare_policies": "سیاست‌های کنونی با همین تکانه‌ها و عدم قطعیت‌ها",
        "compare_baseline": "سناریوی مبنا (بی‌تکانه، عدم قطعیت‌های پیش‌فرض)",
        "compare_short_policies": "سیاست‌های کنونی",
        "compare_short_baseline": "سناریوی مبنا",
        "compared_with": "این اجرا در مقایسه با {comparison}",
        "budgets": "بودجهٔ اهرم‌ها (میلیون دلار در سال؛ عدد را بنویسید یا بکشید)",
        "targeting_title": "هدف‌گیری",
        "uncertainties": "عدم قطعیت‌ها",
        "unit_musd_year": "میلیون دلار/سال",
        "plan_cost": "برنامه: {cost} میلیون دلار در سال",
        "reset": "از نو",
        "play": "پخش",
        "pause": "توقف",
        "step": "یک ماه",
        "building": "ساختن اجرا…",
        "no_run": "اجرایی نیست: «از نو» را بزنید",
        "building_note": "ساختن اجرا: {units} واحد و اجرای مقایسه (در مقیاس کامل چند ثانیه)",
        "pending": "هنوز اعمال نشده (برای اجرا «از نو» را بزنید): {changes}",
        "tab_goals": "اهداف",
        "tab_economy": "اقتصاد",
        "rule_all": "همهٔ واحدهای واجد شرایط",
        "rule_province": "استان زیر",
        "rule_cluster": "خوشهٔ زیر",
        "rule_ranking": "رتبه‌بندی ۱۰۰ واحد برتر",
        "save_scenario": "ذخیرهٔ تنظیمات به صورت فایل سناریو",
        "download_report": "دریافت گزارش",
        "report_writing": "نوشتن گزارش (چند ثانیه)…",
        "build_failed": "اجرا ساخته نشد؛ تنظیم را اصلاح کنید و «از نو» را بزنید: {error}",
        "report_needs_a_month": "برای نوشتن گزارش دست‌کم یک ماه پیش بروید.",
        "changed_plan": "{description}؛ اهرم‌ها یا عدم قطعیت‌ها در داشبورد تغییر کرد",
        "scenario_comment": "Settings from smesim dashboard (started from {source}): for smesim run or a sweep",
    },
}

# Names of shipped scenarios, provinces, export destinations and sectors in Persian (English: as in the model)
SCENARIO_NAMES = {
    "fa": {
        "baseline": "مبنا (سیاست‌های کنونی)",
        "ministry_plan": "برنامهٔ وزارت",
        "rial_fall": "سقوط ریال",
        "sanctions_tightening": "تشدید تحریم‌ها",
        "lever_training": "اهرم آموزش و نمایشگاه",
        "lever_clinics": "اهرم کلینیک صنعتی",
        "lever_consortia": "اهرم کنسرسیوم‌ها",
        "lever_clusters": "اهرم طرح‌های خوشه‌ای",
        "lever_sukuk": "اهرم صکوک",
        "lever_listing": "اهرم پذیرش در بورس",
        "lever_infrastructure": "اهرم زیرساخت شهرک‌ها",
        "lever_rural_zones": "اهرم نواحی روستایی",
        "lever_matchmaking": "اهرم پیوند زنجیرهٔ تأمین",
        "lever_technology": "اهرم فناوری و استاندارد",
        "lever_credit": "اهرم اعتبار و کمک بلاعوض",
        "lever_ranking": "اهرم رتبه‌بندی ۱۰۰ واحد برتر",
    }
}
PLACE_NAMES = {
    "fa": {
        "Tehran": "تهران",
        "Razavi Khorasan": "خراسان رضوی",
        "Isfahan": "اصفهان",
        "Fars": "فارس",
        "Khuzestan": "خوزستان",
        "East Azerbaijan": "آذربایجان شرقی",
        "Mazandaran": "مازندران",
        "West Azerbaijan": "آذربایجان غربی",
        "Kerman": "کرمان",
        "Sistan and Baluchestan": "سیستان و بلوچستان",
        "Alborz": "البرز",
        "Gilan": "گیلان",
        "Kermanshah": "کرمانشاه",
        "Golestan": "گلستان",
        "Hormozgan": "هرمزگان",
        "Lorestan": "لرستان",
        "Hamadan": "همدان",
        "Kurdistan": "کردستان",
        "Markazi": "مرکزی",
        "Qom": "قم",
        "Qazvin": "قزوین",
        "Ardabil": "اردبیل",
        "Bushehr": "بوشهر",
        "Yazd": "یزد",
        "Zanjan": "زنجان",
        "Chaharmahal and Bakhtiari": "چهارمحال و بختیاری",
        "North Khorasan": "خراسان شمالی",
        "South Khorasan": "خراسان جنوبی",
        "Kohgiluyeh and Boyer-Ahmad": "کهگیلویه و بویراحمد",
        "Semnan": "سمنان",
        "Ilam": "ایلام",
        "Iraq": "عراق",
        "Turkey": "ترکیه",
        "Afghanistan": "افغانستان",
        "Pakistan": "پاکستان",
        "Armenia": "ارمنستان",
        "Azerbaijan": "جمهوری آذربایجان",
        "Turkmenistan": "ترکمنستان",
        "Russia": "روسیه",
        "Kazakhstan": "قزاقستان",
        "UAE": "امارات متحده عربی",
        "Oman": "عمان",
        "Qatar": "قطر",
        "Kuwait": "کویت",
        "Saudi Arabia": "عربستان سعودی",
        "Bahrain": "بحرین",
        "China": "چین",
        "India": "هند",
        "Africa": "آفریقا",
    }
}
SECTOR_NAMES = {
    "fa": {
        "basic metals": "فلزات پایه",
        "chemicals and pharmaceuticals": "شیمیایی و دارویی",
        "fabricated metal products": "محصولات فلزی",
        "food and beverages": "غذایی و آشامیدنی",
        "machinery, electrical and vehicles": "ماشین‌آلات، برق و خودرو",
        "non-metallic minerals": "کانی‌های غیرفلزی",
        "other manufacturing": "سایر صنایع",
        "rubber and plastics": "لاستیک و پلاستیک",
        "textiles, clothing and leather": "نساجی، پوشاک و چرم",
        "wood, paper and printing": "چوب، کاغذ و چاپ",
    }
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


_TYPED_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


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

    def scenario_name(self, name: str) -> str:
        """A scenario (a shipped one's name or a file's path) as the page names it."""
        return SCENARIO_NAMES.get(self.lang, {}).get(name, Path(name).stem)

    def place(self, name: str) -> str:
        """A province or export destination in the page's language."""
        return PLACE_NAMES.get(self.lang, {}).get(name, name)

    def cluster(self, name: str) -> str:
        """A cluster ("<sector> in <province>") in the page's language."""
        sector, _, province = name.rpartition(" in ")
        if self.lang == "en" or not sector:
            return name
        return f"{SECTOR_NAMES[self.lang].get(sector, sector)} در {self.place(province)}"

    def isolate(self, value) -> str:
        """A value inside Persian text isolated (U+2068 ... U+2069), so that a sign or a unit stays
        with its number in right-to-left text; English text as it is."""
        return f"\u2068{value}\u2069" if self.lang == "fa" else str(value)

    def number_text(self, value: float) -> str:
        """A control's number as its field shows it (Persian digits when asked for)."""
        return persian_digits(str(value)) if self.digits == "persian" else str(value)

    @staticmethod
    def read_number(text: str) -> float | None:
        """A number typed in Latin, Persian or Arabic-Indic digits (None if it is not one)."""
        latin = str(text).translate(_TYPED_DIGITS).replace("٫", ".").replace("٬", "").replace(",", "").strip()
        try:
            return float(latin)
        except ValueError:
            return None

    def html(self, markup: str) -> str:
        """Markup (HTML or SVG) with Persian digits in its text when asked for (never in tags)."""
        return persian_digits(markup) if self.digits == "persian" else markup
