//! The published ketamine models: parameters, covariates, validity ranges and sources.
//!
//! Every number below comes from /shared/clinical/pk-models.md, which checked it against opentiva
//! 1.1.2 `ketamine.py`; items marked [to check] there are still to be read in the primary paper.

use crate::patient::Patient;
use crate::units::{Litres, PerMinute};

/// A ketamine (racemic) pharmacokinetic model from the literature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    Domino,
    Clements250,
    Hijazi,
    Kamp,
}

/// The rate constants and central volume of a linear mammillary model with elimination from the
/// central compartment. A zero pair (k12 = k21 = 0, or k13 = k31 = 0) removes that peripheral
/// compartment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parameters {
    pub v1: Litres,
    pub k10: PerMinute,
    pub k12: PerMinute,
    pub k13: PerMinute,
    pub k21: PerMinute,
    pub k31: PerMinute,
}

/// An inclusive covariate range; `None` for a bound the source does not give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The population a model was fitted on. Outside it the simulator still answers, with a warning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Validity {
    pub age_years: Range,
    pub weight_kg: Range,
    /// Where the range comes from, and how sure we are of it.
    pub basis: &'static str,
}

/// The name a caller used does not match any model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model must be one of domino, clements250, hijazi, kamp (lower case), got {name:?}")]
pub struct UnknownModel {
    pub name: String,
}

impl Model {
    pub const ALL: [Model; 4] = [
        Model::Domino,
        Model::Clements250,
        Model::Hijazi,
        Model::Kamp,
    ];

    /// The lower-case name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Model::Domino => "domino",
            Model::Clements250 => "clements250",
            Model::Hijazi => "hijazi",
            Model::Kamp => "kamp",
        }
    }

    pub fn parse(name: &str) -> Result<Model, UnknownModel> {
        Model::ALL
            .into_iter()
            .find(|model| model.name() == name)
            .ok_or_else(|| UnknownModel {
                name: name.to_owned(),
            })
    }

    pub fn source(self) -> &'static str {
        match self {
            Model::Domino => {
                "Domino EF et al. Clin Pharmacol Ther 1982/1984 (ketamine kinetics in unmedicated \
                 and diazepam-premedicated subjects); parameters as in opentiva 1.1.2 (PMID 7198883) \
                 [primary paper to check]"
            }
            Model::Clements250 => {
                "Clements JA, Nimmo WS. Br J Anaesth 1981;53:27-30 (250 ug/kg i.v. data; PMID 7459184, \
                 doi:10.1093/bja/53.1.27); parameters as in opentiva 1.1.2"
            }
            Model::Hijazi => {
                "Hijazi Y, Bodonian C, Bolon M, Salord F, Boulieu R. Br J Anaesth 2003;90:155-60 \
                 (ketamine in ICU patients; PMID 12538370, doi:10.1093/bja/aeg028); parameters as in \
                 opentiva 1.1.2"
            }
            Model::Kamp => {
                "Kamp J et al. Anesthesiology 2020;133:1192-1213 (healthy volunteers; PMID 32997732, \
                 doi:10.1097/ALN.0000000000003577); volumes scaled by weight/70, clearances by \
                 (weight/70)^0.75 as in the paper (opentiva scales clearances linearly)"
            }
        }
    }

    pub fn compartments(self) -> usize {
        match self {
            Model::Domino | Model::Kamp => 3,
            Model::Clements250 | Model::Hijazi => 2,
        }
    }

    /// The ke0 opentiva 1.1.2 lists for each model, derived there from t_peak = 1 min; pk-models.md
    /// reproduced each numerically (domino 0.6523, clements250 5.2105, hijazi 4.773, kamp 2.7915 at
    /// 70 kg). We compute ke0 from t_peak instead (see `CompartmentModel::ke0_for_time_to_peak`);
    /// these are kept for comparison and for `models_description`.
    pub fn listed_ke0(self) -> PerMinute {
        PerMinute(match self {
            Model::Domino => 0.652,
            Model::Clements250 => 5.2,
            Model::Hijazi => 4.773,
            Model::Kamp => 2.791,
        })
    }

    pub fn validity(self) -> Validity {
        const ADULT: Range = Range {
            min: Some(18.0),
            max: None,
        };
        const ANY: Range = Range {
            min: None,
            max: None,
        };
        match self {
            // pk-models.md: "small adult volunteer groups [to check]"; no weight range published
            // in our sources.
            Model::Domino => Validity {
                age_years: ADULT,
                weight_kg: ANY,
                basis: "adult subjects (pk-models.md; exact range in the primary paper [to check])",
            },
            Model::Clements250 => Validity {
                age_years: ADULT,
                weight_kg: ANY,
                basis:
                    "adult volunteers (pk-models.md; exact range in the primary paper [to check])",
            },
            // Adult ICU patients. opentiva marks Hijazi valid only up to age 18: an error in
            // opentiva, not the paper's rule (pk-models.md).
            Model::Hijazi => Validity {
                age_years: ADULT,
                weight_kg: ANY,
                basis:
                    "adult ICU patients (pk-models.md; exact range in the primary paper [to check])",
            },
            // pk-models.md: healthy volunteers 18-45 y, 59-100 kg approx. [to check].
            Model::Kamp => Validity {
                age_years: Range {
                    min: Some(18.0),
                    max: Some(45.0),
                },
                weight_kg: Range {
                    min: Some(59.0),
                    max: Some(100.0),
                },
                basis: "healthy volunteers 18-45 y, 59-100 kg approx. (pk-models.md [to check])",
            },
        }
    }

    /// The model's parameters for this patient. Weight is the only covariate of these four models.
    pub fn parameters(self, patient: &Patient) -> Parameters {
        let weight = patient.weight().value();
        match self {
            // Domino: V1 0.063 L/kg; k10 0.4381, k12 0.5921, k13 0.5900, k21 0.2470, k31 0.0146 /min
            // (pk-models.md, as in opentiva 1.1.2 `ketamine.py`).
            Model::Domino => Parameters {
                v1: Litres(0.063 * weight),
                k10: PerMinute(0.4381),
                k12: PerMinute(0.5921),
                k13: PerMinute(0.5900),
                k21: PerMinute(0.2470),
                k31: PerMinute(0.0146),
            },
            // Clements 250 ug/kg: V1 1.7522 L/kg; k10 0.0109, k12 0.0186, k21 0.0137 /min.
            Model::Clements250 => Parameters {
                v1: Litres(1.7522 * weight),
                k10: PerMinute(0.0109),
                k12: PerMinute(0.0186),
                k13: PerMinute(0.0),
                k21: PerMinute(0.0137),
                k31: PerMinute(0.0),
            },
            // Hijazi 2003: V1 1.08 L/kg; k10 0.0333, k12 0.0088, k21 0.0030 /min.
            Model::Hijazi => Parameters {
                v1: Litres(1.08 * weight),
                k10: PerMinute(0.0333),
                k12: PerMinute(0.0088),
                k13: PerMinute(0.0),
                k21: PerMinute(0.0030),
                k31: PerMinute(0.0),
            },
            // Kamp 2020, per 70 kg: V1 25 L, V2 56 L, V3 157 L scaled by weight/70; CL 84 L/h,
            // Q2 161 L/h, Q3 79 L/h scaled by (weight/70)^0.75 (allometric, as the paper).
            Model::Kamp => {
                let size = weight / 70.0;
                let clearance_scale = size.powf(0.75);
                let v1 = 25.0 * size;
                let v2 = 56.0 * size;
                let v3 = 157.0 * size;
                let per_min = |litres_per_hour: f64| litres_per_hour * clearance_scale / 60.0;
                let (cl, q2, q3) = (per_min(84.0), per_min(161.0), per_min(79.0));
                Parameters {
                    v1: Litres(v1),
                    k10: PerMinute(cl / v1),
                    k12: PerMinute(q2 / v1),
                    k13: PerMinute(q3 / v1),
                    k21: PerMinute(q2 / v2),
                    k31: PerMinute(q3 / v3),
                }
            }
        }
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (Some(min), Some(max)) => write!(f, "{min}-{max}"),
            (Some(min), None) => write!(f, ">= {min}"),
            (None, Some(max)) => write!(f, "<= {max}"),
            (None, None) => write!(f, "any"),
        }
    }
}

impl Range {
    pub fn contains(&self, value: f64) -> bool {
        self.min.is_none_or(|min| min <= value) && self.max.is_none_or(|max| value <= max)
    }
}
