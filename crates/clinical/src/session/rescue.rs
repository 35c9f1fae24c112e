//! Rescue drugs during a session: the catalogue of those a protocol may
//! allow, which of them are controlled, and the rule for giving a
//! controlled one: drawn from a register vial of that drug, the dose no
//! more than the draw, the draw no more than the vial holds.
//!
//! Sources: shared/clinical/dosing.md, "Monitoring during a session" (a
//! benzodiazepine or an α2-agonist for distressing psychotomimetic effects,
//! an antiemetic — ondansetron [to check]); the premedication of the trials
//! in dosing.md's table (midazolam, clonidine, ondansetron). Schedules:
//! midazolam is DEA Schedule IV (21 CFR 1308.14(c), from the CFR's text);
//! clonidine and ondansetron are in no schedule of 21 CFR 1308.11–15.
//! RxNorm ingredients: midazolam 6960 and ondansetron 26225 (screening.md,
//! from CPIC's drug table [checked, secondary]); clonidine is not yet in
//! shared/clinical/, so it has none here.

use crate::register::{check_vial_drug, DrugAmount, RegisterDrug, Schedule, WrongDrug};

/// A rescue drug a protocol may allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RescueDrug {
    Midazolam,
    Clonidine,
    Ondansetron,
}

impl RescueDrug {
    pub const ALL: [RescueDrug; 3] = [
        RescueDrug::Midazolam,
        RescueDrug::Clonidine,
        RescueDrug::Ondansetron,
    ];

    /// The ingredient, as a protocol's label begins with it.
    pub fn ingredient(self) -> &'static str {
        match self {
            RescueDrug::Midazolam => "midazolam",
            RescueDrug::Clonidine => "clonidine",
            RescueDrug::Ondansetron => "ondansetron",
        }
    }

    /// Its class, as dosing.md names the rescue drugs.
    pub fn class(self) -> &'static str {
        match self {
            RescueDrug::Midazolam => "benzodiazepine",
            RescueDrug::Clonidine => "α2-agonist",
            RescueDrug::Ondansetron => "antiemetic",
        }
    }

    /// The RxNorm ingredient (RxCUI), where shared/clinical/ has it.
    pub fn rxnorm(self) -> Option<&'static str> {
        match self {
            RescueDrug::Midazolam => Some(RegisterDrug::Midazolam.rxnorm()),
            RescueDrug::Clonidine => None,
            RescueDrug::Ondansetron => Some("26225"),
        }
    }

    /// The register's drug, for a controlled one: its vials are the
    /// register's.
    pub fn register_drug(self) -> Option<RegisterDrug> {
        match self {
            RescueDrug::Midazolam => Some(RegisterDrug::Midazolam),
            RescueDrug::Clonidine | RescueDrug::Ondansetron => None,
        }
    }

    /// Its DEA schedule; None when not controlled.
    pub fn controlled(self) -> Option<Schedule> {
        self.register_drug().map(RegisterDrug::schedule)
    }

    /// The catalogue's drug a protocol's label names: the ingredient first,
    /// then optionally its class in brackets ("midazolam (benzodiazepine)").
    /// None for a label of no drug in the catalogue.
    pub fn recognise(label: &str) -> Option<RescueDrug> {
        let name = label.split('(').next().unwrap_or_default().trim();
        RescueDrug::ALL
            .into_iter()
            .find(|d| name.eq_ignore_ascii_case(d.ingredient()))
    }
}

/// The vial a controlled rescue dose is drawn from, as the register holds
/// it under the vial's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RescueVial {
    pub drug: RegisterDrug,
    pub balance: DrugAmount,
    pub expired: bool,
}

/// Why a rescue dose's draw is refused; each names its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RescueRefusal {
    /// A controlled drug is drawn from a register vial of it.
    VialRequired(RegisterDrug),
    /// A drug not controlled is not drawn from the register.
    NotControlled(RescueDrug),
    /// The vial holds another drug.
    WrongDrug(WrongDrug),
    /// The vial is past its expiry date.
    Expired,
    /// The dose given is more than was drawn.
    DoseAboveDraw { dose: DrugAmount, drawn: DrugAmount },
    /// The draw is more than the vial holds.
    DrawAboveBalance {
        drawn: DrugAmount,
        balance: DrugAmount,
    },
    /// Nothing drawn.
    NothingDrawn,
}

/// Whether `dose` of `drug` may be given with this draw: a controlled drug
/// `drawn` from `vial` (a vial of that drug, in date, holding at least the
/// draw, the draw at least the dose); a drug not controlled with no draw.
pub fn check_rescue_draw(
    drug: RescueDrug,
    dose: DrugAmount,
    draw: Option<(RescueVial, DrugAmount)>,
) -> Result<(), RescueRefusal> {
    match (drug.register_drug(), draw) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(RescueRefusal::NotControlled(drug)),
        (Some(wanted), None) => Err(RescueRefusal::VialRequired(wanted)),
        (Some(wanted), Some((vial, drawn))) => {
            check_vial_drug(wanted, vial.drug).map_err(RescueRefusal::WrongDrug)?;
            if vial.expired {
                return Err(RescueRefusal::Expired);
            }
            if drawn.is_zero() {
                return Err(RescueRefusal::NothingDrawn);
            }
            if drawn > vial.balance {
                return Err(RescueRefusal::DrawAboveBalance {
                    drawn,
                    balance: vial.balance,
                });
            }
            if dose > drawn {
                return Err(RescueRefusal::DoseAboveDraw { dose, drawn });
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mg(value: f64) -> DrugAmount {
        DrugAmount::from_mg(value).unwrap()
    }

    fn vial(drug: RegisterDrug, balance: f64) -> RescueVial {
        RescueVial {
            drug,
            balance: mg(balance),
            expired: false,
        }
    }

    #[test]
    fn a_protocols_labels_are_recognised_with_their_schedule() {
        // The seeded protocols' labels (store/src/orders.rs).
        let midazolam = RescueDrug::recognise("midazolam (benzodiazepine)").unwrap();
        assert_eq!(midazolam, RescueDrug::Midazolam);
        assert_eq!(midazolam.controlled(), Some(Schedule::IV));
        assert_eq!(midazolam.rxnorm(), Some("6960"));
        assert_eq!(midazolam.class(), "benzodiazepine");
        let clonidine = RescueDrug::recognise("clonidine (α2-agonist)").unwrap();
        assert_eq!(clonidine, RescueDrug::Clonidine);
        assert_eq!(clonidine.controlled(), None);
        assert_eq!(clonidine.rxnorm(), None);
        let ondansetron = RescueDrug::recognise("ondansetron (antiemetic)").unwrap();
        assert_eq!(ondansetron.controlled(), None);
        assert_eq!(ondansetron.rxnorm(), Some("26225"));
        assert_eq!(
            RescueDrug::recognise("  Midazolam "),
            Some(RescueDrug::Midazolam)
        );
        assert_eq!(RescueDrug::recognise("lorazepam (benzodiazepine)"), None);
        assert_eq!(RescueDrug::recognise(""), None);
    }

    #[test]
    fn a_controlled_rescue_drug_is_drawn_from_a_vial_of_it() {
        let m = RescueDrug::Midazolam;
        let draw = |v, drawn| Some((v, mg(drawn)));
        assert_eq!(
            check_rescue_draw(m, mg(2.0), draw(vial(RegisterDrug::Midazolam, 5.0), 2.0)),
            Ok(())
        );
        // Drawn more than given: the rest is wasted later.
        assert_eq!(
            check_rescue_draw(m, mg(2.0), draw(vial(RegisterDrug::Midazolam, 5.0), 5.0)),
            Ok(())
        );
        assert_eq!(
            check_rescue_draw(m, mg(2.0), None),
            Err(RescueRefusal::VialRequired(RegisterDrug::Midazolam))
        );
        assert_eq!(
            check_rescue_draw(m, mg(2.0), draw(vial(RegisterDrug::Ketamine, 500.0), 2.0)),
            Err(RescueRefusal::WrongDrug(WrongDrug {
                wanted: RegisterDrug::Midazolam,
                vial: RegisterDrug::Ketamine
            }))
        );
        assert_eq!(
            check_rescue_draw(m, mg(3.0), draw(vial(RegisterDrug::Midazolam, 5.0), 2.0)),
            Err(RescueRefusal::DoseAboveDraw {
                dose: mg(3.0),
                drawn: mg(2.0)
            })
        );
        assert_eq!(
            check_rescue_draw(m, mg(2.0), draw(vial(RegisterDrug::Midazolam, 1.0), 2.0)),
            Err(RescueRefusal::DrawAboveBalance {
                drawn: mg(2.0),
                balance: mg(1.0)
            })
        );
        let expired = RescueVial {
            expired: true,
            ..vial(RegisterDrug::Midazolam, 5.0)
        };
        assert_eq!(
            check_rescue_draw(m, mg(2.0), draw(expired, 2.0)),
            Err(RescueRefusal::Expired)
        );
        assert_eq!(
            check_rescue_draw(m, mg(2.0), draw(vial(RegisterDrug::Midazolam, 5.0), 0.0)),
            Err(RescueRefusal::NothingDrawn)
        );
    }

    #[test]
    fn a_rescue_drug_not_controlled_takes_no_vial() {
        for drug in [RescueDrug::Clonidine, RescueDrug::Ondansetron] {
            assert_eq!(check_rescue_draw(drug, mg(4.0), None), Ok(()));
            assert_eq!(
                check_rescue_draw(
                    drug,
                    mg(4.0),
                    Some((vial(RegisterDrug::Midazolam, 5.0), mg(4.0)))
                ),
                Err(RescueRefusal::NotControlled(drug))
            );
        }
    }
}
