"""Demo training for the Songjiang cooperative, through the real training services.

A county vocational school offers two programmes: rural e-commerce, whose seats the cooperative's
training fund pays (the fund is filled by the training part of every settled sale, so the demo
orders are settled first), and bee-keeping, paid by the social enterprise. The demo farmer's
household (SJ-0001) applies to the first and staff accept it, which finances the seat from the
fund in the ledger; the manager applies for SJ-0003 to the second (accepted) and SJ-0005 applies
too (left waiting, so staff have an applicant to decide on).

Idempotent: providers and programmes are found by name, enrolments by programme and household;
an acceptance is attempted only for an enrolment still `applied`, and only when the fund holds
the seat cost (otherwise it stays applied).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from catalog.demo import COOP_CODE
from catalog.models import Cooperative, Household
from core.actor import Actor
from ledger.models import Account
from training import enrolments, financing, programmes
from training.models import Enrolment, EnrolmentStatus, Programme, TrainingProvider
from training.schemas import EnrolmentCreate, ProgrammeCreate, ProviderCreate

PROVIDER = "J县农业职业技术学校"
PROVIDER_CONTACT = "0870-5556789 (教务处)"


@dataclass(frozen=True)
class DemoEnrolment:
    member_code: str
    applied_by: str  # "farmer" (the household's own account) or "manager"
    accept: bool


@dataclass(frozen=True)
class DemoProgramme:
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    skill_area: str
    seat_cost: int  # minor units
    coop_funded: bool  # the cooperative's training fund pays, else the enterprise
    capacity: int
    first_session_in_days: int
    place: str
    trainer: str
    sessions: int
    enrolments: tuple[DemoEnrolment, ...]


PROGRAMMES = (
    DemoProgramme(
        title_zh="农村电商与直播带货",
        title_en="Rural e-commerce and live-stream selling",
        description_zh="开网店、拍产品照片、做直播、回复买家：两次课，在村委会上，带上手机。",
        description_en=(
            "Opening an online shop, photographing products, live-streaming and answering "
            "buyers: two sessions at the village committee; bring your phone."
        ),
        skill_area="ecommerce",
        seat_cost=5_000,
        coop_funded=True,
        capacity=20,
        first_session_in_days=14,
        place="松江村委会",
        trainer="李敏老师",
        sessions=2,
        enrolments=(DemoEnrolment("SJ-0001", "farmer", accept=True),),
    ),
    DemoProgramme(
        title_zh="中华蜂科学养殖",
        title_en="Keeping Chinese honeybees",
        description_zh="分箱、越冬、防治蜂螨和取蜜卫生，三次课，在镇农技站和蜂场实地教学。",
        description_en=(
            "Splitting colonies, wintering, mite control and clean honey harvesting: three "
            "sessions at the township farm-technology station and in the apiary."
        ),
        skill_area="beekeeping",
        seat_cost=30_000,
        coop_funded=False,
        capacity=12,
        first_session_in_days=30,
        place="青山镇农技站",
        trainer="王建华 (高级农艺师)",
        sessions=3,
        enrolments=(
            DemoEnrolment("SJ-0003", "manager", accept=True),
            DemoEnrolment("SJ-0005", "manager", accept=False),
        ),
    ),
)


@dataclass(frozen=True)
class DemoActors:
    farmer: Actor  # the demo farmer (household SJ-0001)
    manager: Actor
    staff: Actor


def load_training_demo(
    session: Session,
    *,
    actors: DemoActors,
    currency: str,
    today: date | None = None,
) -> list[str]:
    """Create the provider, programmes and enrolments that are missing; a line per thing done."""
    coop = session.scalars(select(Cooperative).where(col(Cooperative.code) == COOP_CODE)).first()
    if coop is None or coop.id is None:
        return []
    today = today or date.today()
    created: list[str] = []
    provider = _provider(session, actors.staff, currency, created)
    for demo in PROGRAMMES:
        programme = _programme(
            session, demo, actors.staff, provider, coop.id, currency, today, created
        )
        for wanted in demo.enrolments:
            _enrol(session, programme, wanted, actors, created)
    return created


def _provider(
    session: Session, staff: Actor, currency: str, created: list[str]
) -> TrainingProvider:
    provider = session.scalars(
        select(TrainingProvider).where(col(TrainingProvider.name) == PROVIDER)
    ).first()
    if provider is None:
        provider = programmes.create_provider(
            session,
            actor=staff,
            data=ProviderCreate(name=PROVIDER, contact=PROVIDER_CONTACT, currency=currency),
        )
        created.append(f"training provider {PROVIDER}")
    return provider


def _programme(
    session: Session,
    demo: DemoProgramme,
    staff: Actor,
    provider: TrainingProvider,
    coop_id: int,
    currency: str,
    today: date,
    created: list[str],
) -> Programme:
    programme = session.scalars(
        select(Programme).where(col(Programme.title_zh) == demo.title_zh)
    ).first()
    if programme is not None:
        return programme
    start = today + timedelta(days=demo.first_session_in_days)
    data = ProgrammeCreate.model_validate(
        {
            "provider_id": provider.id,
            "title": {"zh": demo.title_zh, "en": demo.title_en},
            "description": {"zh": demo.description_zh, "en": demo.description_en},
            "skill_area": demo.skill_area,
            "sessions": [
                {
                    "date": (start + timedelta(days=7 * week)).isoformat(),
                    "place": demo.place,
                    "trainer": demo.trainer,
                }
                for week in range(demo.sessions)
            ],
            "capacity": demo.capacity,
            "seat_cost": {"amount": demo.seat_cost, "currency": currency},
            "funding": (
                {"source": "coop_fund", "coop_id": coop_id}
                if demo.coop_funded
                else {"source": "enterprise"}
            ),
            "eligibility": "coops" if demo.coop_funded else "open",
            "eligible_coop_ids": [coop_id] if demo.coop_funded else [],
            "min_attendance": demo.sessions,
            "status": "open",
        }
    )
    programme = programmes.create_programme(session, actor=staff, data=data)
    created.append(f"training programme {demo.title_zh} ({demo.title_en})")
    return programme


def _enrol(
    session: Session,
    programme: Programme,
    wanted: DemoEnrolment,
    actors: DemoActors,
    created: list[str],
) -> None:
    household = session.scalars(
        select(Household).where(col(Household.member_code) == wanted.member_code)
    ).first()
    if household is None or programme.id is None:
        return
    enrolment = session.scalars(
        select(Enrolment).where(
            col(Enrolment.programme_id) == programme.id,
            col(Enrolment.household_id) == household.id,
        )
    ).first()
    if enrolment is None:
        farmer = actors.farmer.household_id == household.id and wanted.applied_by == "farmer"
        enrolment = enrolments.apply(
            session,
            actor=actors.farmer if farmer else actors.manager,
            programme_id=programme.id,
            data=EnrolmentCreate(household_id=None if farmer else household.id),
        )
        created.append(f"enrolment of {wanted.member_code} in {programme.title_zh} (applied)")
    if not wanted.accept or enrolment.status != EnrolmentStatus.applied:
        return
    if not _fund_covers(session, programme, household):
        return  # stays applied: the fund fills as more sales settle
    assert enrolment.id is not None
    enrolments.accept(session, actor=actors.staff, enrolment_id=enrolment.id)
    created.append(
        f"enrolment of {wanted.member_code} in {programme.title_zh} accepted "
        f"(seat of {programme.seat_cost} {programme.currency} financed)"
    )


def _fund_covers(session: Session, programme: Programme, household: Household) -> bool:
    key = financing.funding_account_key(programme, member_coop_id=household.coop_id)
    if key == financing.ENTERPRISE_TRAINING_EXPENSE:
        return True
    if session.scalars(select(Account).where(col(Account.key) == key)).first() is None:
        return False  # no sale has reached the fund yet
    return financing.fund_balance(session, key) >= programme.seat_cost
