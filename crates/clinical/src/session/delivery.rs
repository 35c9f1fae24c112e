//! The infusion as delivered, reconstructed from the session's timeline:
//! the start, pauses, resumptions, rate changes, boluses and the stop, each
//! timestamped (SPEC §1 step 5: "the delivered dose is known at every
//! moment"), as respite-pk doses so that it can be re-simulated beside the
//! plan, and the total in mg (what the register's administration records).

use respite_pk::{Dose, DoseError, DosingPlan, PlanError};

/// One pump event, `at_min` minutes after the session's start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PumpEvent {
    pub at_min: f64,
    pub kind: PumpEventKind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PumpEventKind {
    /// The infusion starts at this rate.
    Start {
        rate_mg_h: f64,
    },
    Pause,
    /// The infusion runs again at the rate it had before the pause.
    Resume,
    RateChange {
        rate_mg_h: f64,
    },
    /// A bolus of `mg` given over `over_min` minutes (0: a push).
    Bolus {
        mg: f64,
        over_min: f64,
    },
    Stop,
}

/// What was delivered up to a moment.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveredInfusion {
    /// The doses as respite-pk simulates them (times from the start).
    pub doses: Vec<Dose>,
    pub total_mg: f64,
    /// Minutes the pump ran (pauses excluded).
    pub infusion_minutes: f64,
    /// The rate running now (0 when paused or stopped).
    pub rate_now_mg_h: f64,
}

impl DeliveredInfusion {
    pub fn plan(&self) -> Result<DosingPlan, PlanError> {
        DosingPlan::new(self.doses.clone())
    }
}

/// A timeline that cannot be an infusion.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    #[error("events: out of time order at {at_min} min")]
    OutOfOrder { at_min: f64 },
    #[error("events: {event} at {at_min} min does not follow from the one before")]
    OutOfSequence { event: &'static str, at_min: f64 },
    #[error(transparent)]
    Dose(#[from] DoseError),
}

/// The infusion delivered by `events` (in time order) up to `until_min`
/// minutes after the start: a segment still running ends at `until_min`.
pub fn delivered(events: &[PumpEvent], until_min: f64) -> Result<DeliveredInfusion, DeliveryError> {
    let mut doses = Vec::new();
    let mut total_mg = 0.0;
    let mut infusion_minutes = 0.0;
    // The running segment: (since, rate); and the rate to resume at.
    let mut running: Option<(f64, f64)> = None;
    let mut last_rate: Option<f64> = None;
    let mut stopped = false;
    let mut previous_at = f64::NEG_INFINITY;
    let mut bolus_mg = 0.0;
    let mut close = |since: f64, rate: f64, at: f64, doses: &mut Vec<Dose>| {
        let minutes = (at - since).max(0.0);
        if minutes > 0.0 && rate > 0.0 {
            doses.push(Dose::rate_from_numbers(since, minutes, rate)?);
            total_mg += rate * minutes / 60.0;
        }
        infusion_minutes += minutes;
        Ok::<(), DoseError>(())
    };
    for event in events {
        let at = event.at_min;
        if !at.is_finite() || at < previous_at || at < 0.0 {
            return Err(DeliveryError::OutOfOrder { at_min: at });
        }
        previous_at = at;
        let sequence = |event: &'static str| DeliveryError::OutOfSequence { event, at_min: at };
        if stopped {
            return Err(sequence("an event after the stop"));
        }
        match event.kind {
            PumpEventKind::Start { rate_mg_h } => {
                if last_rate.is_some() {
                    return Err(sequence("a second start"));
                }
                running = Some((at, rate_mg_h));
                last_rate = Some(rate_mg_h);
            }
            PumpEventKind::Pause => {
                let Some((since, rate)) = running.take() else {
                    return Err(sequence("a pause"));
                };
                close(since, rate, at, &mut doses)?;
            }
            PumpEventKind::Resume => {
                let (None, Some(rate)) = (running, last_rate) else {
                    return Err(sequence("a resume"));
                };
                running = Some((at, rate));
            }
            PumpEventKind::RateChange { rate_mg_h } => {
                let Some((since, rate)) = running.take() else {
                    return Err(sequence("a rate change"));
                };
                close(since, rate, at, &mut doses)?;
                running = Some((at, rate_mg_h));
                last_rate = Some(rate_mg_h);
            }
            PumpEventKind::Bolus { mg, over_min } => {
                if last_rate.is_none() {
                    return Err(sequence("a bolus"));
                }
                doses.push(Dose::amount_from_numbers(at, over_min, mg)?);
                bolus_mg += mg;
            }
            PumpEventKind::Stop => {
                if last_rate.is_none() {
                    return Err(sequence("a stop"));
                }
                if let Some((since, rate)) = running.take() {
                    close(since, rate, at, &mut doses)?;
                }
                stopped = true;
            }
        }
    }
    let rate_now_mg_h = match running {
        Some((since, rate)) => {
            close(since, rate, until_min.max(since), &mut doses)?;
            rate
        }
        None => 0.0,
    };
    Ok(DeliveredInfusion {
        doses,
        total_mg: total_mg + bolus_mg,
        infusion_minutes,
        rate_now_mg_h,
    })
}

/// Whether a pump rate (mg/h) or a bolus (mg) stays within what the order
/// allows. The pump is set in mL (or mL/h) to one decimal and the order's
/// second check reads it to that resolution, so within half a step, 0.05
/// mL at the bag's concentration, of the maximum is the maximum as the
/// pump shows it.
pub fn within_order(value: f64, ordered_max: f64, concentration_mg_ml: f64) -> bool {
    value <= ordered_max + 0.05 * concentration_mg_ml + 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;
    use PumpEventKind as K;

    fn at(at_min: f64, kind: PumpEventKind) -> PumpEvent {
        PumpEvent { at_min, kind }
    }

    fn close_to(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn a_steady_infusion_delivers_rate_times_time() {
        let d = delivered(
            &[at(0.0, K::Start { rate_mg_h: 40.0 }), at(90.0, K::Stop)],
            200.0,
        )
        .unwrap();
        assert!(close_to(d.total_mg, 60.0), "{}", d.total_mg);
        assert!(close_to(d.infusion_minutes, 90.0));
        assert_eq!(d.doses.len(), 1);
        assert_eq!(d.rate_now_mg_h, 0.0);
    }

    #[test]
    fn pauses_rate_changes_and_boluses_add_up() {
        // 20 mg bolus over 5 min; 40 mg/h 0–30 min (20 mg); paused 30–40;
        // resumed at 40 mg/h 40–60 (13.33 mg); 20 mg/h 60–120 (20 mg).
        let events = [
            at(
                0.0,
                K::Bolus {
                    mg: 20.0,
                    over_min: 5.0,
                },
            ),
            at(0.0, K::Start { rate_mg_h: 40.0 }),
            at(30.0, K::Pause),
            at(40.0, K::Resume),
            at(60.0, K::RateChange { rate_mg_h: 20.0 }),
            at(120.0, K::Stop),
        ];
        // The bolus before the start is out of sequence.
        assert!(matches!(
            delivered(&events, 120.0),
            Err(DeliveryError::OutOfSequence { .. })
        ));
        let mut events = events;
        events.swap(0, 1);
        let d = delivered(&events, 120.0).unwrap();
        let expected = 20.0 + 20.0 + 40.0 * 20.0 / 60.0 + 20.0;
        assert!(
            close_to(d.total_mg, expected),
            "{} vs {expected}",
            d.total_mg
        );
        assert!(close_to(d.infusion_minutes, 110.0));
        assert_eq!(d.doses.len(), 4);
        assert!(d.plan().is_ok());
    }

    #[test]
    fn a_running_infusion_counts_up_to_now() {
        let events = [at(0.0, K::Start { rate_mg_h: 30.0 })];
        let d = delivered(&events, 20.0).unwrap();
        assert!(close_to(d.total_mg, 10.0));
        assert_eq!(d.rate_now_mg_h, 30.0);
        let paused = delivered(&[events[0], at(20.0, K::Pause)], 50.0).unwrap();
        assert!(close_to(paused.total_mg, 10.0));
        assert_eq!(paused.rate_now_mg_h, 0.0);
    }

    #[test]
    fn impossible_timelines_are_refused() {
        assert!(matches!(
            delivered(&[at(0.0, K::Pause)], 10.0),
            Err(DeliveryError::OutOfSequence { .. })
        ));
        assert!(matches!(
            delivered(
                &[at(10.0, K::Start { rate_mg_h: 30.0 }), at(5.0, K::Stop)],
                10.0
            ),
            Err(DeliveryError::OutOfOrder { .. })
        ));
        assert!(matches!(
            delivered(
                &[
                    at(0.0, K::Start { rate_mg_h: 30.0 }),
                    at(5.0, K::Stop),
                    at(6.0, K::Resume)
                ],
                10.0
            ),
            Err(DeliveryError::OutOfSequence { .. })
        ));
    }

    #[test]
    fn the_delivered_plan_re_simulates_like_the_same_plan_written_by_hand() {
        use respite_pk::{simulate, Model, Patient, SimulationSettings};
        let events = [
            at(0.0, K::Start { rate_mg_h: 40.0 }),
            at(60.0, K::RateChange { rate_mg_h: 20.0 }),
            at(120.0, K::Stop),
        ];
        let d = delivered(&events, 120.0).unwrap();
        let by_hand = DosingPlan::new(vec![
            Dose::rate_from_numbers(0.0, 60.0, 40.0).unwrap(),
            Dose::rate_from_numbers(60.0, 60.0, 20.0).unwrap(),
        ])
        .unwrap();
        let patient = Patient::from_numbers(80.0, 50.0, respite_pk::Sex::Male, 178.0).unwrap();
        let settings = SimulationSettings::from_numbers(180.0, 30.0, None).unwrap();
        let a = simulate(Model::Kamp, &patient, &d.plan().unwrap(), &settings).unwrap();
        let b = simulate(Model::Kamp, &patient, &by_hand, &settings).unwrap();
        let (a, b) = (a.concentrations.plasma_ng_ml, b.concentrations.plasma_ng_ml);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!(close_to(*x, *y), "{x} vs {y}");
        }
    }

    #[test]
    fn within_half_a_pump_step_of_the_maximum_is_within_the_order() {
        // 10 mg/mL: the pump's 0.1 mL/h is 1 mg/h; half a step is 0.5 mg/h.
        assert!(within_order(40.0, 40.0, 10.0));
        assert!(within_order(40.5, 40.0, 10.0));
        assert!(!within_order(40.6, 40.0, 10.0));
        assert!(!within_order(41.0, 40.0, 10.0));
        assert!(within_order(0.0, 40.0, 10.0));
    }
}
