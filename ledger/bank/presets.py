"""Named statement layouts: which header names of a bank's or wallet's export mean which field.

Each preset lists, per field, the header names that bank uses (compared without spaces, full-width
brackets as ASCII). A file's header row is found among its first lines, the preamble (title,
account, period) above it is skipped, and the preset that recognises most fields of that row is
the one used. A preset saved by staff from the mapping form is a plain `{field: column}` mapping.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.bank.cells import header_name


@dataclass(frozen=True)
class Preset:
    key: str
    name: str  # as the bank names itself, shown on the preview
    columns: Mapping[str, tuple[str, ...]]  # field → header names, the first present wins

    def resolve(self, header: Sequence[str]) -> dict[str, int] | None:
        """Field → column index in this header row, or None when the row is not this layout."""
        names = [header_name(cell) for cell in header]
        found: dict[str, int] = {}
        for field, candidates in self.columns.items():
            for candidate in candidates:
                if header_name(candidate) in names:
                    found[field] = names.index(header_name(candidate))
                    break
        return found if has_money_and_date(found) else None


def has_money_and_date(columns: Iterable[str]) -> bool:
    fields = set(columns)
    return "date" in fields and ("amount" in fields or {"inflow", "outflow"} <= fields)


def _preset(key: str, name: str, **columns: str | tuple[str, ...]) -> Preset:
    return Preset(
        key=key,
        name=name,
        columns={f: (c,) if isinstance(c, str) else c for f, c in columns.items()},
    )


# Most specific first: on a tie of recognised fields the earlier preset wins.
BUILTIN_PRESETS: tuple[Preset, ...] = (
    _preset(
        "icbc",
        "中国工商银行 ICBC",
        date="交易日期",
        inflow="记账金额(收入)",
        outflow="记账金额(支出)",
        description="摘要",
        reference="交易详情",
        counterparty="对方户名",
    ),
    _preset(
        "ccb",
        "中国建设银行 CCB",
        date="交易时间",
        inflow="贷方发生额(收入)",
        outflow="借方发生额(支取)",
        description="摘要",
        reference="备注",
        counterparty="对方户名",
    ),
    _preset(
        "abc",
        "中国农业银行 ABC",
        date="交易日期",
        amount="交易金额",
        description="交易摘要",
        reference="交易用途",
        counterparty="对方户名",
    ),
    _preset(
        "boc",
        "中国银行 BOC",
        date="交易日期",
        inflow="收入金额",
        outflow="支出金额",
        description="业务摘要",
        reference="附言",
        counterparty="对方账户名称",
    ),
    _preset(
        "cmb",
        "招商银行 CMB",
        date="交易日期",
        inflow="收入",
        outflow="支出",
        description="交易类型",
        reference="交易备注",
    ),
    _preset(
        "alipay",
        "支付宝 Alipay",
        date="交易时间",
        direction="收/支",
        amount="金额",
        description="商品说明",
        reference="交易订单号",
        counterparty="交易对方",
    ),
    _preset(
        "wechat",
        "微信支付 WeChat Pay",
        date="交易时间",
        direction="收/支",
        amount="金额(元)",
        description="商品",
        reference="交易单号",
        counterparty="交易对方",
    ),
    _preset(
        "rural",
        "农村信用社 / 农村商业银行",
        date=("交易日期", "记账日期"),
        inflow=("贷方发生额", "贷方金额", "收入金额"),
        outflow=("借方发生额", "借方金额", "支出金额"),
        description="摘要",
        reference=("备注", "附言", "用途"),
        counterparty=("对方户名", "对方账户名称", "对方名称"),
    ),
    _preset(
        "hezuo",
        "Hezuo CSV",
        date="date",
        amount="amount",
        currency="currency",
        reference="reference",
        counterparty="counterparty",
        description="description",
    ),
)
DEFAULT_PRESET = BUILTIN_PRESETS[-1]


def builtin(key: str) -> Preset | None:
    return next((p for p in BUILTIN_PRESETS if p.key == key), None)


def from_mapping(key: str, name: str, mapping: Mapping[str, str]) -> Preset:
    """A preset from a staff mapping (field → the file's column name)."""
    return _preset(key, name, **dict(mapping))


def detect(
    rows: Sequence[Sequence[str]], presets: Sequence[Preset], *, scan: int = 40
) -> tuple[Preset, int, dict[str, int]] | None:
    """The preset, header row index and columns that recognise most fields in the first rows."""
    best: tuple[Preset, int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:scan]):
        for preset in presets:
            columns = preset.resolve(row)
            if columns is not None and (best is None or len(columns) > len(best[2])):
                best = (preset, index, columns)
        if best is not None:
            return best  # the first row that is a header of any layout is the header
    return None
