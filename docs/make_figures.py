"""Draws the figures of docs/worlds.md from the simulated worlds (run: make figures)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from simulators import load_world

OUT = Path(__file__).parent / "figures"


def ternary_xy(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian position in an equilateral triangle: element 0 bottom left, 1 bottom right, 2 top."""
    return x[:, 1] + 0.5 * x[:, 2], np.sqrt(3) / 2 * x[:, 2]


def wafer_map() -> None:
    world = load_world("fe-ga-pd", seed=0)
    library = world.deposit({"Fe": 200.0, "Ga": 90.0, "Pd": 70.0}, duration_s=3600)
    eq = world.equilibrium(library.compositions)
    fig, axes = plt.subplots(1, 5, figsize=(19, 3.8), constrained_layout=True)
    x, y = library.positions_mm.T
    panels = [
        (library.compositions[:, i], f"{e} (at. fraction)", "viridis") for i, e in enumerate(world.elements)
    ]
    panels.append((library.thickness_nm, "thickness (nm)", "magma"))
    for ax, (values, label, cmap) in zip(axes[:4], panels, strict=True):
        sc = ax.scatter(x, y, c=values, cmap=cmap, s=38, marker="s")
        ax.add_patch(plt.Circle((0, 0), library.positions_mm.max() + 6, fill=False, color="0.4"))
        for gun in world.guns:
            gx, gy = gun.position_mm[:2]
            ax.annotate(
                gun.element, (gx * 0.55, gy * 0.55), ha="center", va="center", color="0.3", fontsize=9
            )
        ax.set_aspect("equal")
        ax.set_title(label)
        ax.set_xlabel("x (mm)")
        fig.colorbar(sc, ax=ax, shrink=0.8)
    axes[0].set_ylabel("y (mm)")
    dominant = eq.fractions.argmax(axis=1)
    ax = axes[4]
    for i, name in enumerate(world.phase_names):
        mask = dominant == i
        if mask.any():
            ax.scatter(x[mask], y[mask], s=38, marker="s", label=f"{name} (major)")
    ax.set_aspect("equal")
    ax.set_title("majority phase")
    ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(
        f"Fe-Ga-Pd library: {len(library)} spots on a 3-inch wafer, "
        "guns at 200/90/70 W for 1 h (world fe-ga-pd)"
    )
    fig.savefig(OUT / "wafer_map.png", dpi=110)
    plt.close(fig)


def xrd_across_a_boundary() -> None:
    world = load_world("fe-ga-pd", seed=1)
    start, stop = np.array([0.92, 0.06, 0.02]), np.array([0.50, 0.04, 0.46])
    fig, ax = plt.subplots(figsize=(9, 6.5), constrained_layout=True)
    for k, t in enumerate(np.linspace(0, 1, 7)):
        x = start + t * (stop - start)
        composition = dict(zip(world.elements, x, strict=True))
        pattern = world.measure_xrd(composition, count_time_s=2.0)
        eq = world.equilibrium(x[None, :])
        phases = ", ".join(
            f"{n} {f:.2f}" for n, f in zip(world.phase_names, eq.fractions[0], strict=True) if f > 0.005
        )
        offset = k * 1.1 * 2.0 * 1500
        ax.plot(pattern.two_theta_deg, pattern.counts + offset, lw=0.8)
        label = "Fe{:.2f} Ga{:.2f} Pd{:.2f}: {}".format(*x, phases)
        ax.text(50.5, offset + 250, label, fontsize=8)
    ax.set_xlim(36, 70)
    ax.set_xlabel("2θ (degrees, Cu Kα1)")
    ax.set_ylabel("counts in 2 s per step (offset)")
    ax.set_title("Diffraction from bcc through bcc + fcc to fcc (world fe-ga-pd, 100 nm films)")
    fig.savefig(OUT / "xrd_across_boundary.png", dpi=110)
    plt.close(fig)


def xafs_two_valences() -> None:
    world = load_world("fe-co-ni-oxide", seed=2)
    samples = {
        "rock salt, Fe2+": {"Fe": 0.04, "Co": 0.30, "Ni": 0.66},
        "spinel, mostly Fe3+": {"Fe": 0.70, "Co": 0.12, "Ni": 0.18},
    }
    fig, (full, zoom) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for label, composition in samples.items():
        valence = world.mean_valence(composition, "Fe")
        spectrum = world.measure_xafs(composition, "Fe", count_time_s=1.0)
        energy, mu_x = world.xafs_mu(composition, "Fe")
        e0 = world.beamline.edge_energy("Fe", valence)
        text = f"{label} (mean valence {valence:.2f}, E0 {e0:.1f} eV)"
        full.plot(spectrum.energy_ev, spectrum.mu, ".", ms=2, alpha=0.5)
        full.plot(energy, mu_x, lw=1.2, label=text)
        below = (energy > e0 - 80) & (energy < e0 - 30)
        above = (energy > e0 + 60) & (energy < e0 + 120)
        pre = np.polyval(np.polyfit(energy[below], spectrum.mu[below], 1), energy)
        jump = np.mean(spectrum.mu[above] - pre[above])
        zoom.plot(energy, (spectrum.mu - pre) / jump, ".", ms=3, alpha=0.6)
        zoom.plot(energy, (mu_x - pre) / jump, lw=1.2, label=text)
        zoom.axvline(e0, color="0.5", lw=0.6, ls="--")
    zoom.set_xlim(7095, 7145)
    zoom.set_ylim(-0.2, 2.4)
    for ax in (full, zoom):
        ax.set_xlabel("energy (eV)")
    full.set_ylabel("μx = ln(I0 / It)")
    zoom.set_ylabel("normalised μ (pre-edge line removed, unit step)")
    full.legend(fontsize=8)
    full.set_title("Fe K edge, transmission, 1 s per point (world fe-co-ni-oxide)")
    zoom.set_title("normalised: E0 moves 1.8 eV per valence step")
    fig.savefig(OUT / "xafs_two_valences.png", dpi=110)
    plt.close(fig)


def phase_maps() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), constrained_layout=True)
    for ax, name in zip(axes, ["fe-ga-pd", "fe-co-ni-oxide"], strict=True):
        world = load_world(name)
        grid = world.dense_grid(0.01)
        eq = world.equilibrium(grid)
        px, py = ternary_xy(grid)
        n_present = np.count_nonzero(eq.fractions > 0, axis=1)
        colours = eq.fractions @ plt.cm.tab10(np.arange(len(world.phase_names)))[:, :3]
        colours *= np.where(n_present == 1, 1.0, np.where(n_present == 2, 0.8, 0.55))[:, None]
        ax.scatter(px, py, c=np.clip(colours, 0, 1), s=6, marker="h")
        for i, phase in enumerate(world.phase_names):
            ax.scatter([], [], color=plt.cm.tab10(i), label=phase)
        ax.text(-0.04, -0.04, world.elements[0], ha="right")
        ax.text(1.04, -0.04, world.elements[1], ha="left")
        ax.text(0.5, np.sqrt(3) / 2 + 0.03, world.elements[2], ha="center")
        ax.set_aspect("equal")
        ax.axis("off")
        ax.legend(loc="upper right", fontsize=8)
        ax.set_title(f"{name}: 1 phase bright, 2 phases darker, 3 phases darkest", pad=16)
    fig.savefig(OUT / "phase_maps.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    wafer_map()
    xrd_across_a_boundary()
    xafs_two_valences()
    phase_maps()
    print(f"figures written to {OUT}")
