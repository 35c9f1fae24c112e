//! Vital signs during a session, their alarm thresholds, and when the next
//! set is due.
//!
//! Source: shared/clinical/dosing.md, "Monitoring during a session" (clinic
//! settings; defaults from common practice [to check]): blood pressure,
//! heart rate, respiratory rate and SpO₂ at least every 15 min and at any
//! change of rate; alarm defaults systolic above 180 or below 90 mm Hg,
//! heart rate above 120 or below 50 /min, SpO₂ below 92 %, respiratory rate
//! below 10 /min. LOINC codes: codes.md, "Vital signs".

use jiff::{SignedDuration, Timestamp};

use super::SessionState;

/// dosing.md: vitals "at least every 15 min and at any change of rate".
pub const VITALS_INTERVAL_MINUTES: i64 = 15;

/// One measured sign, with its LOINC code and UCUM unit (codes.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VitalKind {
    Systolic,
    Diastolic,
    HeartRate,
    OxygenSaturation,
    RespiratoryRate,
    /// Pain now, 0–10 numeric rating (instruments.md, NRS).
    PainNrs,
}

impl VitalKind {
    pub const ALL: [VitalKind; 6] = [
        VitalKind::Systolic,
        VitalKind::Diastolic,
        VitalKind::HeartRate,
        VitalKind::OxygenSaturation,
        VitalKind::RespiratoryRate,
        VitalKind::PainNrs,
    ];

    /// LOINC (codes.md, "Vital signs" [checked]; the pain NRS: instruments.md).
    pub fn loinc(self) -> &'static str {
        match self {
            VitalKind::Systolic => "8480-6",
            VitalKind::Diastolic => "8462-4",
            VitalKind::HeartRate => "8867-4",
            VitalKind::OxygenSaturation => "59408-5",
            VitalKind::RespiratoryRate => "9279-1",
            VitalKind::PainNrs => "72514-3",
        }
    }

    /// UCUM (codes.md).
    pub fn ucum(self) -> &'static str {
        match self {
            VitalKind::Systolic | VitalKind::Diastolic => "mm[Hg]",
            VitalKind::HeartRate | VitalKind::RespiratoryRate => "/min",
            VitalKind::OxygenSaturation => "%",
            VitalKind::PainNrs => "{score}",
        }
    }

    pub fn from_loinc(code: &str) -> Option<VitalKind> {
        VitalKind::ALL.into_iter().find(|k| k.loinc() == code)
    }

    /// The range a measurement can take; outside it the entry is a typing
    /// error, not a reading (physiological bounds, not alarm thresholds).
    pub fn plausible(self) -> (f64, f64) {
        match self {
            VitalKind::Systolic => (40.0, 300.0),
            VitalKind::Diastolic => (20.0, 200.0),
            VitalKind::HeartRate => (20.0, 250.0),
            VitalKind::OxygenSaturation => (50.0, 100.0),
            VitalKind::RespiratoryRate => (2.0, 60.0),
            VitalKind::PainNrs => (0.0, 10.0),
        }
    }
}

/// A set of vitals as the nurse records it. Blood pressure, heart rate,
/// SpO₂ and respiratory rate are required (dosing.md); pain is asked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VitalSigns {
    pub systolic: f64,
    pub diastolic: f64,
    pub heart_rate: f64,
    pub oxygen_saturation: f64,
    pub respiratory_rate: f64,
    pub pain_nrs: Option<f64>,
}

impl VitalSigns {
    /// Each recorded value with its kind.
    pub fn values(&self) -> Vec<(VitalKind, f64)> {
        let mut values = vec![
            (VitalKind::Systolic, self.systolic),
            (VitalKind::Diastolic, self.diastolic),
            (VitalKind::HeartRate, self.heart_rate),
            (VitalKind::OxygenSaturation, self.oxygen_saturation),
            (VitalKind::RespiratoryRate, self.respiratory_rate),
        ];
        if let Some(pain) = self.pain_nrs {
            values.push((VitalKind::PainNrs, pain));
        }
        values
    }

    /// The first value outside its plausible range, if any.
    pub fn implausible(&self) -> Option<(VitalKind, f64)> {
        self.values().into_iter().find(|&(kind, value)| {
            let (lo, hi) = kind.plausible();
            !(value.is_finite() && lo <= value && value <= hi)
        })
    }
}

/// The clinic's alarm thresholds. A value strictly beyond a limit alarms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlarmThresholds {
    pub systolic_above: f64,
    pub systolic_below: f64,
    pub heart_rate_above: f64,
    pub heart_rate_below: f64,
    pub oxygen_saturation_below: f64,
    pub respiratory_rate_below: f64,
}

impl Default for AlarmThresholds {
    /// dosing.md, "Monitoring during a session": systolic > 180 or < 90
    /// mm Hg, heart rate > 120 or < 50 /min, SpO₂ < 92 %, respiratory rate
    /// < 10 /min (common practice [to check]).
    fn default() -> AlarmThresholds {
        AlarmThresholds {
            systolic_above: 180.0,
            systolic_below: 90.0,
            heart_rate_above: 120.0,
            heart_rate_below: 50.0,
            oxygen_saturation_below: 92.0,
            respiratory_rate_below: 10.0,
        }
    }
}

/// Why thresholds were refused: the field and the rule.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ThresholdError {
    #[error("{field}: must be between {lo} and {hi}")]
    OutOfRange {
        field: &'static str,
        lo: f64,
        hi: f64,
    },
    #[error("{field}: the low alarm must be below the high alarm")]
    LowNotBelowHigh { field: &'static str },
}

impl AlarmThresholds {
    /// Checks each threshold lies within the sign's plausible range and each
    /// low limit is below its high one.
    pub fn validate(&self) -> Result<(), ThresholdError> {
        let fields = [
            ("systolic_above", self.systolic_above, VitalKind::Systolic),
            ("systolic_below", self.systolic_below, VitalKind::Systolic),
            (
                "heart_rate_above",
                self.heart_rate_above,
                VitalKind::HeartRate,
            ),
            (
                "heart_rate_below",
                self.heart_rate_below,
                VitalKind::HeartRate,
            ),
            (
                "oxygen_saturation_below",
                self.oxygen_saturation_below,
                VitalKind::OxygenSaturation,
            ),
            (
                "respiratory_rate_below",
                self.respiratory_rate_below,
                VitalKind::RespiratoryRate,
            ),
        ];
        for (field, value, kind) in fields {
            let (lo, hi) = kind.plausible();
            if !(value.is_finite() && lo <= value && value <= hi) {
                return Err(ThresholdError::OutOfRange { field, lo, hi });
            }
        }
        if self.systolic_below >= self.systolic_above {
            return Err(ThresholdError::LowNotBelowHigh {
                field: "systolic_below",
            });
        }
        if self.heart_rate_below >= self.heart_rate_above {
            return Err(ThresholdError::LowNotBelowHigh {
                field: "heart_rate_below",
            });
        }
        Ok(())
    }
}

/// Which side of a threshold a value is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmDirection {
    Above,
    Below,
}

impl AlarmDirection {
    pub fn code(self) -> &'static str {
        match self {
            AlarmDirection::Above => "above",
            AlarmDirection::Below => "below",
        }
    }
    pub fn from_code(code: &str) -> Option<AlarmDirection> {
        match code {
            "above" => Some(AlarmDirection::Above),
            "below" => Some(AlarmDirection::Below),
            _ => None,
        }
    }
}

/// A value beyond its threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VitalAlarm {
    pub kind: VitalKind,
    pub value: f64,
    pub limit: f64,
    pub direction: AlarmDirection,
}

/// The alarms a set of vitals raises under `thresholds`.
pub fn alarms(vitals: &VitalSigns, thresholds: &AlarmThresholds) -> Vec<VitalAlarm> {
    let above = |kind, value: f64, limit: f64| {
        (value > limit).then_some(VitalAlarm {
            kind,
            value,
            limit,
            direction: AlarmDirection::Above,
        })
    };
    let below = |kind, value: f64, limit: f64| {
        (value < limit).then_some(VitalAlarm {
            kind,
            value,
            limit,
            direction: AlarmDirection::Below,
        })
    };
    [
        above(
            VitalKind::Systolic,
            vitals.systolic,
            thresholds.systolic_above,
        ),
        below(
            VitalKind::Systolic,
            vitals.systolic,
            thresholds.systolic_below,
        ),
        above(
            VitalKind::HeartRate,
            vitals.heart_rate,
            thresholds.heart_rate_above,
        ),
        below(
            VitalKind::HeartRate,
            vitals.heart_rate,
            thresholds.heart_rate_below,
        ),
        below(
            VitalKind::OxygenSaturation,
            vitals.oxygen_saturation,
            thresholds.oxygen_saturation_below,
        ),
        below(
            VitalKind::RespiratoryRate,
            vitals.respiratory_rate,
            thresholds.respiratory_rate_below,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// When the next set of vitals is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VitalsDue {
    pub due_at: Timestamp,
    /// Due because the rate changed (or the infusion started or resumed)
    /// after the last set, not because 15 minutes passed.
    pub after_rate_change: bool,
}

impl VitalsDue {
    /// Whole minutes until due (negative when overdue).
    pub fn minutes_from(&self, now: Timestamp) -> i64 {
        let seconds = self.due_at.as_second() - now.as_second();
        seconds.div_euclid(60)
    }
}

/// When the next vitals are due in `state`, given the last set and the last
/// change of rate (the start, a resume, or a rate change): none outside
/// monitoring; at once after a change of rate not yet followed by a set;
/// else 15 minutes after the last set (dosing.md).
pub fn vitals_due(
    state: SessionState,
    last_vitals: Option<Timestamp>,
    last_rate_change: Option<Timestamp>,
) -> Option<VitalsDue> {
    if !state.is_monitored() {
        return None;
    }
    let interval = SignedDuration::from_mins(VITALS_INTERVAL_MINUTES);
    match (last_vitals, last_rate_change) {
        (Some(vitals), Some(change)) if change > vitals => Some(VitalsDue {
            due_at: change,
            after_rate_change: true,
        }),
        (Some(vitals), _) => Some(VitalsDue {
            due_at: vitals.checked_add(interval).unwrap_or(vitals),
            after_rate_change: false,
        }),
        (None, Some(change)) => Some(VitalsDue {
            due_at: change,
            after_rate_change: true,
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal() -> VitalSigns {
        VitalSigns {
            systolic: 128.0,
            diastolic: 78.0,
            heart_rate: 72.0,
            oxygen_saturation: 98.0,
            respiratory_rate: 14.0,
            pain_nrs: Some(6.0),
        }
    }

    #[test]
    fn default_thresholds_are_dosing_md() {
        let t = AlarmThresholds::default();
        assert_eq!(
            (t.systolic_above, t.systolic_below),
            (180.0, 90.0),
            "dosing.md: systolic > 180 or < 90"
        );
        assert_eq!((t.heart_rate_above, t.heart_rate_below), (120.0, 50.0));
        assert_eq!(t.oxygen_saturation_below, 92.0);
        assert_eq!(t.respiratory_rate_below, 10.0);
        assert_eq!(t.validate(), Ok(()));
    }

    #[test]
    fn values_at_a_threshold_do_not_alarm_and_beyond_do() {
        let t = AlarmThresholds::default();
        let check = |vitals: VitalSigns, expected: &[(VitalKind, AlarmDirection)]| {
            let found: Vec<_> = alarms(&vitals, &t)
                .into_iter()
                .map(|a| (a.kind, a.direction))
                .collect();
            assert_eq!(found, expected, "{vitals:?}");
        };
        check(normal(), &[]);
        check(
            VitalSigns {
                systolic: 180.0,
                heart_rate: 50.0,
                oxygen_saturation: 92.0,
                respiratory_rate: 10.0,
                ..normal()
            },
            &[],
        );
        check(
            VitalSigns {
                systolic: 181.0,
                ..normal()
            },
            &[(VitalKind::Systolic, AlarmDirection::Above)],
        );
        check(
            VitalSigns {
                systolic: 89.0,
                heart_rate: 121.0,
                ..normal()
            },
            &[
                (VitalKind::Systolic, AlarmDirection::Below),
                (VitalKind::HeartRate, AlarmDirection::Above),
            ],
        );
        check(
            VitalSigns {
                heart_rate: 49.0,
                oxygen_saturation: 91.0,
                respiratory_rate: 9.0,
                ..normal()
            },
            &[
                (VitalKind::HeartRate, AlarmDirection::Below),
                (VitalKind::OxygenSaturation, AlarmDirection::Below),
                (VitalKind::RespiratoryRate, AlarmDirection::Below),
            ],
        );
    }

    #[test]
    fn a_clinic_may_change_its_thresholds_within_reason() {
        let stricter = AlarmThresholds {
            oxygen_saturation_below: 94.0,
            ..AlarmThresholds::default()
        };
        let vitals = VitalSigns {
            oxygen_saturation: 93.0,
            ..normal()
        };
        assert_eq!(alarms(&vitals, &stricter).len(), 1);
        assert!(alarms(&vitals, &AlarmThresholds::default()).is_empty());
        assert_eq!(
            AlarmThresholds {
                heart_rate_below: 130.0,
                ..AlarmThresholds::default()
            }
            .validate(),
            Err(ThresholdError::LowNotBelowHigh {
                field: "heart_rate_below"
            })
        );
        assert!(AlarmThresholds {
            oxygen_saturation_below: 120.0,
            ..AlarmThresholds::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn implausible_values_are_named() {
        let vitals = VitalSigns {
            heart_rate: 720.0,
            ..normal()
        };
        assert_eq!(vitals.implausible(), Some((VitalKind::HeartRate, 720.0)));
        assert_eq!(normal().implausible(), None);
    }

    #[test]
    fn vitals_are_due_every_15_minutes_and_at_a_rate_change() {
        let t0: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
        let mins = |m: i64| t0.checked_add(SignedDuration::from_mins(m)).unwrap();
        // Not monitored before the start or after discharge.
        assert_eq!(vitals_due(SessionState::Checklist, Some(t0), None), None);
        assert_eq!(vitals_due(SessionState::Discharged, Some(t0), None), None);
        // 15 minutes after the last set.
        let due = vitals_due(SessionState::Running, Some(mins(10)), Some(t0)).unwrap();
        assert_eq!(due.due_at, mins(25));
        assert!(!due.after_rate_change);
        assert_eq!(due.minutes_from(mins(20)), 5);
        assert_eq!(due.minutes_from(mins(27)), -2);
        // A rate change after the last set makes them due at once.
        let due = vitals_due(SessionState::Running, Some(mins(10)), Some(mins(12))).unwrap();
        assert_eq!(due.due_at, mins(12));
        assert!(due.after_rate_change);
        // Still due every 15 min in recovery.
        let due = vitals_due(SessionState::Recovery, Some(mins(60)), Some(mins(12))).unwrap();
        assert_eq!(due.due_at, mins(75));
    }

    #[test]
    fn loinc_codes_are_codes_md() {
        assert_eq!(VitalKind::Systolic.loinc(), "8480-6");
        assert_eq!(VitalKind::Diastolic.loinc(), "8462-4");
        assert_eq!(VitalKind::HeartRate.loinc(), "8867-4");
        assert_eq!(VitalKind::RespiratoryRate.loinc(), "9279-1");
        assert_eq!(VitalKind::OxygenSaturation.loinc(), "59408-5");
        for kind in VitalKind::ALL {
            assert_eq!(VitalKind::from_loinc(kind.loinc()), Some(kind));
        }
    }
}
