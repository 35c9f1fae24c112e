//! Words for the chart pages.
