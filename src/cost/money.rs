//! Dollar amounts as reports print them: `$40,179.20`, `$0.005`.

/// A monthly (or any large) amount: two decimals, thousands separated.
pub fn usd(x: f64) -> String {
    let sign = if x < 0.0 { "-" } else { "" };
    let cents = (x.abs() * 100.0).round() as u128;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}${grouped}.{frac:02}")
}

/// An hourly price: up to five decimals (EIPs cost $0.005), at least two.
pub fn usd_hour(x: f64) -> String {
    let sign = if x < 0.0 { "-" } else { "" };
    let mut s = format!("{:.5}", x.abs());
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) > 3 {
        s.pop();
    }
    format!("{sign}${s}")
}

/// A signed change: `+$12.00`, `-$3.50`.
pub fn signed(x: f64) -> String {
    if x >= 0.005 {
        format!("+{}", usd(x))
    } else {
        usd(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_like_money() {
        assert_eq!(usd(40179.2), "$40,179.20");
        assert_eq!(usd(1234567.891), "$1,234,567.89");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(-32.85), "-$32.85");
        assert_eq!(usd_hour(55.04), "$55.04");
        assert_eq!(usd_hour(0.005), "$0.005");
        assert_eq!(usd_hour(2.24208), "$2.24208");
        assert_eq!(usd_hour(1.0), "$1.00");
        assert_eq!(signed(12.0), "+$12.00");
        assert_eq!(signed(-3.5), "-$3.50");
    }
}
