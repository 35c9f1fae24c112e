//! Rate limits per source address on the routes anyone can post to: the
//! inquiry form, the public booking and its changes, the provider webhooks
//! and staff sign-in. Without them one client filed 300 inquiries in 1.3 s
//! and booked every slot of the 14-day window in 0.9 s.
//!
//! Each group of routes has its own GCRA limiter (governor's keyed
//! limiter): a burst of N, then one more every period / N. Sources are
//! [`ClientAddress::limit_key`]s (an IPv6 client counts by its /64).
//! The state lives in this process: behind several servers a client gets
//! each server's limit (docs/SECURITY.md, "Known limits").

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::client;
use crate::error::page;

/// Requests each source may make to each group of public routes; 0 turns
/// a group's limit off. The defaults are the clinic's starting point, never
/// looser than 10 inquiries a minute and 5 bookings an hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /inquiries`, per minute. Default 10.
    pub inquiries_per_minute: u32,
    /// `POST /consultations` (a new booking), per hour. Default 5.
    pub bookings_per_hour: u32,
    /// Cancelling or moving a booking by its link, per hour. Default 10.
    pub booking_changes_per_hour: u32,
    /// `POST /webhooks/…`, per minute. The provider posts from a few
    /// addresses for every text and call of the clinic. Default 300.
    pub webhooks_per_minute: u32,
    /// `POST /staff/login`, per minute, whatever the account: a clinic's
    /// staff often share one address. Default 20.
    pub sign_ins_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            inquiries_per_minute: 10,
            bookings_per_hour: 5,
            booking_changes_per_hour: 10,
            webhooks_per_minute: 300,
            sign_ins_per_minute: 20,
        }
    }
}

impl RateLimits {
    /// No limits at all (tests that post many forms from one address).
    pub fn off() -> RateLimits {
        RateLimits {
            inquiries_per_minute: 0,
            bookings_per_hour: 0,
            booking_changes_per_hour: 0,
            webhooks_per_minute: 0,
            sign_ins_per_minute: 0,
        }
    }
}

/// The groups of routes that are limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Inquiries,
    Bookings,
    BookingChanges,
    Webhooks,
    SignIns,
}

impl Group {
    const ALL: [Group; 5] = [
        Group::Inquiries,
        Group::Bookings,
        Group::BookingChanges,
        Group::Webhooks,
        Group::SignIns,
    ];

    fn of(method: &Method, path: &str) -> Option<Group> {
        if method != Method::POST {
            return None;
        }
        match path {
            "/inquiries" => Some(Group::Inquiries),
            "/consultations" | "/consultations/booking/again" => Some(Group::Bookings),
            "/consultations/booking/cancel" | "/consultations/booking/reschedule" => {
                Some(Group::BookingChanges)
            }
            "/staff/login" => Some(Group::SignIns),
            _ if crate::routes::is_webhook(path) => Some(Group::Webhooks),
            _ => None,
        }
    }

    fn quota(self, limits: &RateLimits) -> Option<Quota> {
        let (count, per_hour) = match self {
            Group::Inquiries => (limits.inquiries_per_minute, false),
            Group::Bookings => (limits.bookings_per_hour, true),
            Group::BookingChanges => (limits.booking_changes_per_hour, true),
            Group::Webhooks => (limits.webhooks_per_minute, false),
            Group::SignIns => (limits.sign_ins_per_minute, false),
        };
        let count = NonZeroU32::new(count)?;
        Some(if per_hour {
            Quota::per_hour(count)
        } else {
            Quota::per_minute(count)
        })
    }
}

/// Sources remembered per group before the state is pruned at once rather
/// than every few thousand requests: bounds memory under a flood from many
/// addresses (each entry is a few dozen bytes).
const MAX_SOURCES: usize = 100_000;
/// Requests between two prunings of sources whose limit has refilled.
const PRUNE_EVERY: u64 = 4096;

/// The limiters of one server process.
pub struct RateLimiter {
    /// Behind a lock only so that a flooded group can be replaced whole.
    groups: Vec<(Group, Quota, RwLock<DefaultKeyedRateLimiter<IpAddr>>)>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl RateLimiter {
    pub fn new(limits: &RateLimits) -> RateLimiter {
        let groups = Group::ALL
            .into_iter()
            .filter_map(|group| {
                let quota = group.quota(limits)?;
                Some((
                    group,
                    quota,
                    RwLock::new(DefaultKeyedRateLimiter::hashmap(quota)),
                ))
            })
            .collect();
        RateLimiter {
            groups,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// `Err(wait)` when `source` has used up its allowance for `group`.
    fn check(&self, group: Group, source: IpAddr) -> Result<(), Duration> {
        let Some((_, _, limiter)) = self.groups.iter().find(|(g, _, _)| *g == group) else {
            return Ok(());
        };
        let checks = self.checks.fetch_add(1, Ordering::Relaxed);
        let crowded = read(limiter).len() > MAX_SOURCES;
        if checks.is_multiple_of(PRUNE_EVERY) || crowded {
            self.prune();
        }
        read(limiter)
            .check_key(&source)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets sources whose allowance has refilled.
    pub fn prune(&self) {
        for (group, quota, limiter) in &self.groups {
            let crowded = {
                let limiter = read(limiter);
                limiter.retain_recent();
                limiter.shrink_to_fit();
                limiter.len() > MAX_SOURCES
            };
            if crowded {
                // Still too many live sources: a flood from more addresses
                // than we keep. Start afresh rather than grow.
                tracing::warn!(?group, "rate limiter: too many sources, state cleared");
                let mut limiter = limiter.write().unwrap_or_else(PoisonError::into_inner);
                *limiter = DefaultKeyedRateLimiter::hashmap(*quota);
            }
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // A panic elsewhere cannot leave a limiter half-updated in a way that
    // matters: its state is a set of independent counters.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Answers 429 with `Retry-After` when the request's source has used up
/// the allowance of its route's group.
pub async fn limit(
    State(limiter): State<Arc<RateLimiter>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(group) = Group::of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let source = client::of_extensions(request.extensions()).limit_key();
    match limiter.check(group, source) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                &format!(
                    "Too many requests from your address for this form. Try again in {seconds} seconds."
                ),
            );
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_group_allows_its_burst_then_refuses_with_the_wait() {
        let limiter = RateLimiter::new(&RateLimits::default());
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "198.51.100.9".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(limiter.check(Group::Bookings, a), Ok(()));
        }
        let wait = limiter.check(Group::Bookings, a).unwrap_err();
        // One more booking every 60 / 5 = 12 minutes.
        assert!(
            Duration::from_secs(11 * 60) < wait && wait <= Duration::from_secs(12 * 60),
            "{wait:?}"
        );
        assert_eq!(limiter.check(Group::Bookings, b), Ok(()), "another source");
        assert_eq!(limiter.check(Group::Inquiries, a), Ok(()), "another group");
        let off = RateLimiter::new(&RateLimits::off());
        for _ in 0..100 {
            assert_eq!(off.check(Group::Bookings, a), Ok(()));
        }
    }

    #[test]
    fn only_the_public_posts_are_grouped() {
        assert_eq!(
            Group::of(&Method::POST, "/inquiries"),
            Some(Group::Inquiries)
        );
        assert_eq!(Group::of(&Method::GET, "/inquiries/thanks"), None);
        assert_eq!(
            Group::of(&Method::POST, "/webhooks/voice"),
            Some(Group::Webhooks)
        );
        assert_eq!(Group::of(&Method::POST, "/staff/inquiries/1/sms"), None);
        assert_eq!(Group::of(&Method::GET, "/consultations"), None);
    }

    #[test]
    fn pruning_forgets_refilled_sources() {
        let limiter = RateLimiter::new(&RateLimits::default());
        for n in 0..50u8 {
            let source = IpAddr::from([192, 0, 2, n]);
            let _ = limiter.check(Group::Webhooks, source);
        }
        let webhooks = &limiter.groups[3];
        assert_eq!(webhooks.0, Group::Webhooks);
        assert_eq!(read(&webhooks.2).len(), 50);
        // One request of 300 a minute refills in 0.2 s; governor forgets a
        // source one emission interval after that.
        std::thread::sleep(Duration::from_millis(700));
        limiter.prune();
        assert_eq!(read(&webhooks.2).len(), 0);
    }
}
