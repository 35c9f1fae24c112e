//! Words of the staff lists: where a page stands, the queue's tabs, the
//! callbacks' filters.

use respite_store::InquiryStatus;

/// Where a page of a list stands: "Patients 26–50 of 240", "1 patient",
/// "No patient matches". `what` is the plural noun, `one` the singular.
pub fn page_summary(offset: i64, shown: usize, total: i64, one: &str, what: &str) -> String {
    let shown = shown as i64;
    match (total, shown) {
        (0, _) | (_, 0) => format!("No {one} matches."),
        (1, _) => format!("1 {one}."),
        (total, shown) if shown == total => format!("All {total} {what}."),
        (total, shown) => format!(
            "{} {}–{} of {total}.",
            super::common::capitalised(what),
            offset + 1,
            offset + shown
        ),
    }
}

/// The inquiry queue's tab (and heading) for a status.
pub fn queue_heading(status: InquiryStatus) -> &'static str {
    match status {
        InquiryStatus::New => "New inquiries",
        InquiryStatus::Contacted => "Contacted, awaiting a consultation",
        InquiryStatus::ConsultationBooked => "Consultation booked",
        InquiryStatus::Closed => "Closed",
    }
}

/// The short label of a queue tab.
pub fn queue_tab(status: InquiryStatus) -> &'static str {
    match status {
        InquiryStatus::New => "New",
        InquiryStatus::Contacted => "Contacted",
        InquiryStatus::ConsultationBooked => "Booked",
        InquiryStatus::Closed => "Closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_say_where_the_page_stands() {
        let check = |offset, shown, total, expected: &str| {
            assert_eq!(
                page_summary(offset, shown, total, "patient", "patients"),
                expected
            );
        };
        check(0, 0, 0, "No patient matches.");
        check(0, 1, 1, "1 patient.");
        check(0, 12, 12, "All 12 patients.");
        check(25, 25, 240, "Patients 26–50 of 240.");
        check(225, 15, 240, "Patients 226–240 of 240.");
    }
}
