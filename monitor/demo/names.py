"""Company, person and CSM names for the synthetic portfolio.

Kept apart from the portfolio model so the model reads as behaviour, not word lists.
A few company names carry characters that every output channel must escape (Slack
mrkdwn, HTML, CSV, JSON); they are planted on purpose and listed in :data:`ESCAPE_TEST_NAMES`.
"""

from __future__ import annotations

import re
import unicodedata
from random import Random

_PREFIXES = (  # noqa: SIM905 - long word lists read better as one string
    "Northwind Bluepeak Ironbridge Silverline Redwood Lakeshore Brightpath Clearwater "
    "Summit Granite Harbor Evergreen Keystone Pinecrest Stonegate Riverbend Foxglove "
    "Copperfield Highland Meridian Oakridge Starling Westbrook Amberly Bayview Cedarline "
    "Driftwood Elmstead Fairhaven Goldcrest Hawthorne Juniper Kingsley Larkspur Maplewood "
    "Nimbus Orchard Pioneer Quarrystone Ravenwood Sagebrush Thornbury Upland Vantage "
    "Willowby Yellowtail Zenith Atlas Beacon Cobalt"
).split()
_CORES = (  # noqa: SIM905 - long word lists read better as one string
    "Analytics Logistics Health Robotics Foods Energy Media Capital Software Biotech "
    "Retail Motors Insurance Travel Security Labs Studios Networks Pharma Textiles "
    "Aerospace Consulting Education Freight Games Hotels Marine Mining Payments Realty "
    "Semiconductors Solar Telecom Water Wellness Apparel Brewing Cloud Devices Farms"
).split()
_SUFFIXES = ("", "Inc.", "LLC", "Ltd", "GmbH", "Group", "Co.", "Holdings", "AG", "SA", "BV")

ESCAPE_TEST_NAMES = (
    "<!channel> Labs",
    "Baker & Sons",
    'O\'Neil "Data" Partners',
    "<script>alert(1)</script> Inc.",
    "Müller & Söhne GmbH",
)
"""Names that break naive Slack/HTML/CSV output: planted so escaping is always exercised."""

FIRST_NAMES = (  # noqa: SIM905 - long word lists read better as one string
    "Alex Maria Jonas Aisha Chen Fatima Lukas Sara Diego Yuki Noah Elena Omar Hanna Ravi "
    "Lea Mateo Ingrid Kofi Nina Pavel Grace Tariq Emma Jin Lucia Felix Amara Hugo Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905 - long word lists read better as one string
    "Smith Garcia Muller Tanaka Okafor Novak Silva Rossi Berg Khan Dubois Jensen Park "
    "Costa Fischer Ahmed Moreau Lindgren Ivanova Mensah Kowalski Nakamura Schmidt Lopez "
    "Haddad Weber Sato Brown Nilsen Reyes"
).split()

CSMS = (
    "dana.kim",
    "luis.ortega",
    "priya.nair",
    "tom.becker",
    "mei.chen",
    "sam.okafor",
    "julia.rossi",
    "omar.haddad",
    "anna.lindqvist",
    "ben.carter",
    "sofia.marin",
    "kenji.watanabe",
)
CSM_DOMAIN = "vendor.example"


def company_names(rng: Random, count: int) -> list[str]:
    """``count`` distinct company names, with the escape-test names at random positions.

    Names are drawn without replacement from prefix x core x suffix; past that space
    (tens of thousands) a numeral keeps them distinct.
    """
    space = len(_PREFIXES) * len(_CORES) * len(_SUFFIXES)
    picks = rng.sample(range(space), min(count, space))
    picks += [picks[n % space] for n in range(space, count)]
    names = []
    for n, pick in enumerate(picks):
        prefix, rest = divmod(pick, len(_CORES) * len(_SUFFIXES))
        core, suffix = divmod(rest, len(_SUFFIXES))
        name = f"{_PREFIXES[prefix]} {_CORES[core]} {_SUFFIXES[suffix]}".strip()
        names.append(name if n < space else f"{name} {n // space + 1}")
    planted = min(count, len(ESCAPE_TEST_NAMES))
    for slot, name in zip(rng.sample(range(count), planted), ESCAPE_TEST_NAMES, strict=False):
        names[slot] = name
    return names


def domain_of(company: str) -> str:
    """An e-mail domain for a company: its name folded to ASCII letters and dashes."""
    ascii_name = unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return f"{slug or 'company'}.example"


def csm_emails(count: int) -> list[str]:
    """The CS team: between 8 and 12 CSMs, fewer for a small portfolio."""
    team = max(8, min(len(CSMS), count // 40))
    return [f"{name}@{CSM_DOMAIN}" for name in CSMS[:team]]
