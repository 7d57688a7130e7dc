"""Places and sectors: the 31 provinces, ten manufacturing sector groups, industrial parks.

Tables are data, with their sources in docs/ODD.md:
- provinces weighted by population (2016 census, thousands; recalled), our stand-in for
  the provincial distribution of industrial units, which the seeds do not give;
- sector groups (ISIC Rev.4 divisions grouped) with shares of units and relative output
  per worker (assumptions recalled from Iran's industrial census of 10+ worker units).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "PARK_INFRA_BETA",
    "PARK_SIZE_SIGMA",
    "PROVINCES",
    "PROVINCE_NAMES",
    "PROVINCE_WEIGHTS",
    "SECTORS",
    "SECTOR_NAMES",
    "SECTOR_OUTPUT_PER_WORKER",
    "SECTOR_SHARES",
    "Parks",
]

PROVINCES = (
    ("Tehran", 13_267),
    ("Razavi Khorasan", 6_434),
    ("Isfahan", 5_120),
    ("Fars", 4_851),
    ("Khuzestan", 4_710),
    ("East Azerbaijan", 3_909),
    ("Mazandaran", 3_283),
    ("West Azerbaijan", 3_265),
    ("Kerman", 3_164),
    ("Sistan and Baluchestan", 2_775),
    ("Alborz", 2_712),
    ("Gilan", 2_530),
    ("Kermanshah", 1_952),
    ("Golestan", 1_868),
    ("Hormozgan", 1_776),
    ("Lorestan", 1_760),
    ("Hamadan", 1_738),
    ("Kurdistan", 1_603),
    ("Markazi", 1_429),
    ("Qom", 1_292),
    ("Qazvin", 1_273),
    ("Ardabil", 1_270),
    ("Bushehr", 1_163),
    ("Yazd", 1_138),
    ("Zanjan", 1_057),
    ("Chaharmahal and Bakhtiari", 947),
    ("North Khorasan", 863),
    ("South Khorasan", 768),
    ("Kohgiluyeh and Boyer-Ahmad", 713),
    ("Semnan", 702),
    ("Ilam", 580),
)
PROVINCE_NAMES = tuple(name for name, _ in PROVINCES)
PROVINCE_WEIGHTS = np.array([pop for _, pop in PROVINCES], dtype=float) / sum(pop for _, pop in PROVINCES)

# (name, share of units, output per worker relative to the average sector)
SECTORS = (
    ("food and beverages", 0.16, 1.0),
    ("textiles, clothing and leather", 0.10, 0.7),
    ("wood, paper and printing", 0.06, 0.8),
    ("chemicals and pharmaceuticals", 0.09, 1.6),
    ("rubber and plastics", 0.11, 1.0),
    ("non-metallic minerals", 0.17, 0.9),
    ("basic metals", 0.05, 2.0),
    ("fabricated metal products", 0.10, 0.9),
    ("machinery, electrical and vehicles", 0.12, 1.1),
    ("other manufacturing", 0.04, 0.8),
)
SECTOR_NAMES = tuple(s[0] for s in SECTORS)
SECTOR_SHARES = np.array([s[1] for s in SECTORS])
SECTOR_OUTPUT_PER_WORKER = np.array([s[2] for s in SECTORS])

PARK_SIZE_SIGMA = 1.0  # log-normal dispersion of park sizes (assumption: few large estates, many small zones)
PARK_INFRA_BETA = (4.0, 2.0)  # Beta(a, b) of park infrastructure quality, mean 0.67 (assumption)


class Parks:
    """The industrial parks: province, relative size (share of firms located there), infrastructure."""

    def __init__(self, n_parks: int, rng: np.random.Generator):
        n_prov = len(PROVINCES)
        # every province has at least one park; the rest follow population weights
        extra = rng.choice(n_prov, size=max(n_parks - n_prov, 0), p=PROVINCE_WEIGHTS)
        self.province = np.concatenate([np.arange(min(n_parks, n_prov)), extra]).astype(np.int16)
        size = rng.lognormal(0.0, PARK_SIZE_SIGMA, n_parks)
        self.weight = size / size.sum()
        self.infrastructure = rng.beta(*PARK_INFRA_BETA, n_parks)

    def __len__(self) -> int:
        return len(self.province)

    def add(self, province: int, infrastructure: float) -> int:
        """A new park (a rural zone); weight 0, so ordinary applications do not locate there. Returns its id."""
        self.province = np.append(self.province, np.int16(province))
        self.weight = np.append(self.weight, 0.0)
        self.infrastructure = np.append(self.infrastructure, infrastructure)
        return len(self.province) - 1

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(len(self), size=n, p=self.weight).astype(np.int32)
