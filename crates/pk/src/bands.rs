//! Plasma concentration bands for racemic ketamine, shown as guidance with their sources, never as
//! dosing instructions (pk-models.md, "Concentration bands").

use crate::units::NanogramsPerMillilitre;

/// A named plasma concentration range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Short machine name, e.g. `analgesia`.
    pub name: &'static str,
    pub low: NanogramsPerMillilitre,
    pub high: NanogramsPerMillilitre,
    pub source: &'static str,
}

/// The bands of pk-models.md. They overlap (analgesia lies inside the psychotomimetic range): each
/// band's time is counted on its own. The antidepressant-infusion peak (≈185 ng/mL, Zarate CA et
/// al. Arch Gen Psychiatry 2006;63:856–864 [to check]) is a single value, not a band, so it has no
/// time in band.
pub const BANDS: [Band; 4] = [
    Band {
        name: "analgesia",
        low: NanogramsPerMillilitre(100.0),
        high: NanogramsPerMillilitre(160.0),
        source: "Zanos P et al. Pharmacol Rev 2018;70:621-660 (analgesic effects reported from \
                 about 70-100 ng/mL) [to check exact figures]",
    },
    Band {
        name: "psychotomimetic",
        low: NanogramsPerMillilitre(100.0),
        high: NanogramsPerMillilitre(250.0),
        source: "Krystal JH et al. Arch Gen Psychiatry 1994;51:199-214 [to check]",
    },
    Band {
        name: "emergence",
        low: NanogramsPerMillilitre(640.0),
        high: NanogramsPerMillilitre(1100.0),
        source: "Idvall J et al. Br J Anaesth 1979;51:1167-73 [to check]",
    },
    Band {
        name: "anaesthesia",
        low: NanogramsPerMillilitre(1200.0),
        high: NanogramsPerMillilitre(2400.0),
        source: "Idvall 1979; Zanos 2018 (hypnosis from about 1000 ng/mL) [to check]",
    },
];

/// Minutes the concentration spends within [low, high], reading the samples as a piecewise-linear
/// curve (exact for the interpolant; at coarse steps it is an approximation of the true curve).
pub fn minutes_in_band(t_min: &[f64], concentration: &[f64], band: &Band) -> f64 {
    let (low, high) = (band.low.0, band.high.0);
    let mut total = 0.0;
    for (t, c) in t_min.windows(2).zip(concentration.windows(2)) {
        let (t0, t1, c0, c1) = (t[0], t[1], c[0], c[1]);
        let dt = t1 - t0;
        if c0 == c1 {
            if low <= c0 && c0 <= high {
                total += dt;
            }
            continue;
        }
        // Fraction s ∈ [0, 1] of the interval where c0 + s·(c1 − c0) lies in [low, high].
        let (s_low, s_high) = ((low - c0) / (c1 - c0), (high - c0) / (c1 - c0));
        let (s_from, s_to) = if s_low <= s_high {
            (s_low, s_high)
        } else {
            (s_high, s_low)
        };
        let fraction = s_to.min(1.0) - s_from.max(0.0);
        if fraction > 0.0 {
            total += fraction * dt;
        }
    }
    total
}
