"""A crawl of every page each role's navigation reaches, on a 360-px phone in zh-CN: the page never
scrolls sideways, no time says "UTC", no English words are left untranslated (an allow-list for
brand names, codes and units; text marked lang="en" is English on purpose), every button and
field is at least 44 px tall (checkboxes and radios through their label), and axe-core (PyPI
axe-playwright-python's copy) finds no serious or critical violation.

Every role is crawled: the demo's users, and a social worker and an auditor made for the test.

Pages are the header's links, then the links in those pages' main content, one page per path shape
(digits stand for ids), so a role's area is covered without visiting every product.
"""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Page
from sqlmodel import select

from api.database import create_db_engine, create_session_factory
from api.demo import DEMO_USERS
from api.models import Role
from api.service import create_user
from api.settings import Settings
from catalog.models import Household
from governance.plan_models import SocialWorkerAssignment

PHONE = {"width": 360, "height": 740}
AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
SKIP = re.compile(
    r"^/(logout|locale|docs|openapi\.json|api/|static/|media/)|\.(csv|xlsx|svg|png|jpg|pdf)$"
    r"|/qr|/packing-list|/pay$"
)
MAX_PAGES = 40
ROLES = ["public", "buyer", "farmer", "manager", "staff", "social_worker", "auditor"]
# Forms a role reaches a few clicks deep, visited for certain (the crawl stops at MAX_PAGES).
ALSO_VISIT = {
    "manager": ["/manage/hearings/new", "/hearings"],
    "staff": ["/manage/hearings/new", "/hearings", "/manage/households/1"],
}
EXTRA_USERS = {
    "social_worker": ("worker@hezuo.test", "worker-crawl-2026"),
    "auditor": ("auditor@hezuo.test", "auditor-crawl-2026"),
}
# Latin words a Chinese page may show: brand and product names, file formats, units, currencies.
ALLOWED_WORDS = frozenset(
    """hezuo api csv xls xlsx pdf json html svg sms qr url id cny rmb kg mb gb gbk webp jpeg png
    alipay wechat pay unionpay stripe icbc ccb abc boc cmb""".split()
)

UNTRANSLATED = """(allowed) => {
  const found = new Set();
  const skip = '[lang^="en"], code, kbd, samp, script, style, noscript, [translate="no"]';
  const check = (text) => {
    for (const chunk of text.split(/\\s+/)) {
      // amounts, codes (member codes, ledger keys like assets:bank), e-mail, paths
      if (!chunk || /[0-9@_:\\/]/.test(chunk)) continue;
      for (const word of chunk.match(/[A-Za-z]{3,}/g) || []) {
        if (/^[A-Z]{4,}$/.test(word)) continue;  // a code in capitals (an order's reference)
        if (!allowed.includes(word.toLowerCase())) found.add(word);
      }
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    check(node.textContent);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], img[alt]')) {
    if (el.closest(skip)) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      if (el.hasAttribute(name)) check(el.getAttribute(name));
    }
  }
  return [...found].slice(0, 15);
}"""

TAP_TARGETS = """() => {
  const small = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const el of document.querySelectorAll(
      'button, a.button, select, textarea, input:not([type=hidden])')) {
    if (!visible(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (!label) { small.push(el.outerHTML.slice(0, 80)); continue; }
      box = label.getBoundingClientRect();
    }
    if (box.height < 43.5) small.push(`${Math.round(box.height)}px ${el.outerHTML.slice(0, 80)}`);
  }
  return small;
}"""


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _links(page: Page, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(a => a.getAttribute('href'))")
    found = []
    for href in hrefs:
        if not href or href.startswith(("#", "mailto:", "tel:", "http")):
            continue
        path = urlparse(href).path
        if path.startswith("/") and not SKIP.search(path):
            found.append(href)
    return found


def _make_user(settings: Settings, role: str) -> tuple[str, str]:
    """A social worker (serving the demo's first household) or an auditor, for the crawl."""
    email, password = EXTRA_USERS[role]
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine).begin() as session:
        user = create_user(session, email=email, password=password, role=Role(role))
        if role == "social_worker":
            household = session.scalars(select(Household).order_by(Household.id)).first()
            assert household is not None
            assert household.id is not None
            assert user.id is not None
            session.add(
                SocialWorkerAssignment(
                    household_id=household.id, user_id=user.id, assigned_by=user.id
                )
            )
    engine.dispose()
    return email, password


def _sign_in(page: Page, role: str, settings: Settings) -> None:
    if role == "public":
        return
    if role in EXTRA_USERS:
        email, password = _make_user(settings, role)
    else:
        demo = next(u for u in DEMO_USERS if u.role.value == role)
        email, password = demo.email, demo.password
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()


def _check(page: Page) -> list[str]:
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{width}px wide")
    if "UTC" in page.inner_text("body"):
        problems.append('says "UTC"')
    english = page.evaluate(UNTRANSLATED, sorted(ALLOWED_WORDS))
    if english:
        problems.append(f"untranslated English: {english}")
    problems.extend(f"tap target {small}" for small in page.evaluate(TAP_TARGETS))
    page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, n["target"])) for n in violation["nodes"][:3]]
            problems.append(f"axe {violation['id']} ({violation['impact']}): {targets}")
    return problems


@pytest.mark.e2e
@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_reaches_fits_a_phone(
    browser: Browser, live_server: str, e2e_settings: Settings, role: str
):
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport=PHONE, bypass_csp=True
    )  # bypass_csp: only so that axe-core can be injected
    page = context.new_page()
    _sign_in(page, role, e2e_settings)
    page.goto("/")
    queue = ["/", *ALSO_VISIT.get(role, []), *_links(page, ".site-header a[href]")]
    seen: set[str] = set()
    report: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        href = queue.pop(0)
        shape = _shape(urlparse(href).path)
        if shape in seen:
            continue
        seen.add(shape)
        response = page.goto(href)
        assert response is not None
        if response.status >= 400 or urlparse(page.url).path == "/login":
            continue
        problems = _check(page)
        if problems:
            report[href] = problems
        if href in ("/", *_links(page, ".site-header a[href]")) or len(seen) < 12:
            queue.extend(_links(page, "main a[href]"))
    context.close()
    assert len(seen) >= 3
    assert report == {}, "\n".join(f"{href}: {p}" for href, ps in report.items() for p in ps)
