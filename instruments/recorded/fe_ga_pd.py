"""The NIST Fe-Ga-Pd composition-spread library as its files: compositions, XRD patterns and the DFT
phase-region labels, spot N on row N of each. Its own module so that serving the library as a pool
does not import the phase mapping (scikit-learn, and joblib's worker machinery with it)."""

from pathlib import Path

import numpy as np

FE_GA_PD_COMPOSITIONS = "FeGaPd_CMP.txt"
FE_GA_PD_XRD = "FeGaPd_XRD.txt"
FE_GA_PD_DFT_REGIONS = "FeGaPd_DFT_regions.txt"


def read_table(path: Path, *, delimiter: str | None = None, skiprows: int = 0) -> np.ndarray:
    """A numeric table as a 2-D array; a missing or malformed file is a ValueError naming it."""
    if not path.is_file():
        raise ValueError(f"{path.name} is missing: expected it at {path}")
    try:
        return np.loadtxt(path, delimiter=delimiter, skiprows=skiprows, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path.name} is not a numeric table ({path}): {exc}") from exc


def load_fe_ga_pd(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The NIST Fe–Ga–Pd library: (two_theta_deg, patterns, compositions, dft_labels).

    Shapes (551,), (278, 551), (278, 3) with rows summing to 1 (Fe, Ga, Pd), and (278,) int.
    Spot N is row N of every file; files whose row counts disagree are rejected rather than
    truncated, since a shifted row would silently pair a pattern with another spot's composition.
    """
    directory = Path(directory)
    cmp_path = directory / FE_GA_PD_COMPOSITIONS
    xrd_path = directory / FE_GA_PD_XRD
    dft_path = directory / FE_GA_PD_DFT_REGIONS

    if cmp_path.is_file():
        header = cmp_path.read_text().split("\n", 1)[0].split()
        if header != ["Fe", "Ga", "Pd"]:
            raise ValueError(f"{cmp_path.name} must start with the header 'Fe Ga Pd', found {header}")
    compositions = read_table(cmp_path, skiprows=1)
    xrd = read_table(xrd_path, delimiter=",")
    dft = read_table(dft_path)

    if compositions.shape[1] != 3:
        raise ValueError(f"{cmp_path.name} must have 3 columns (Fe Ga Pd), found {compositions.shape[1]}")
    sums = compositions.sum(axis=1, keepdims=True)
    if not np.all(sums > 0):
        raise ValueError(f"{cmp_path.name} has rows whose fractions do not sum to a positive number")
    if xrd.shape[0] < 2:
        raise ValueError(f"{xrd_path.name} needs a 2θ row and at least one pattern row")
    two_theta_deg, patterns = xrd[0], xrd[1:]
    if not np.all(np.diff(two_theta_deg) > 0):
        raise ValueError(f"{xrd_path.name}: the first row (2θ) must be strictly increasing")
    if dft.shape[1] != 1:
        raise ValueError(f"{dft_path.name} must have one label per line, found {dft.shape[1]} columns")
    labels = dft[:, 0]
    if not np.all(labels == np.round(labels)):
        raise ValueError(f"{dft_path.name} must contain integer labels")

    n_spots = compositions.shape[0]
    for path, n_rows in ((xrd_path, patterns.shape[0]), (dft_path, labels.size)):
        if n_rows != n_spots:
            raise ValueError(
                f"{path.name} has {n_rows} spots but {cmp_path.name} has {n_spots}: rows must align"
            )
    return two_theta_deg, patterns, compositions / sums, labels.astype(int)
