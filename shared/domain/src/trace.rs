//! The explanation attached to every computed line: which rule, which inputs, which parameters
//! (with their source), the intermediate values and the rounding.
//!
//! Building a trace must be cheap (one is built for every line of every paycheck), so labels and
//! texts are kept as their parts — static strings, dates, decimals — and only turned into text
//! when the trace is serialized (or displayed). The JSON is the same as if every label and text
//! had been formatted eagerly.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

pub type Str = Cow<'static, str>;

/// Write `d` as `YYYY-MM-DD` (the same text as `NaiveDate`'s `Display`).
fn write_date(f: &mut dyn fmt::Write, d: NaiveDate) -> fmt::Result {
    let y = d.year();
    if !(0..=9999).contains(&y) {
        return write!(f, "{d}");
    }
    let (m, day) = (d.month() as u8, d.day() as u8);
    let y = y as u16;
    let b = [
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + m / 10,
        b'0' + m % 10,
        b'-',
        b'0' + day / 10,
        b'0' + day % 10,
    ];
    // All ASCII digits and dashes.
    f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
}

/// A line id or a field name in a trace, serialized as one string. (Kept to 24 bytes: a trace
/// holds hundreds of them.)
#[derive(Debug, Clone)]
pub enum Label {
    Static(&'static str),
    Owned(Box<str>),
    /// A static prefix and a date, e.g. `workweek:` + `2025-03-03` (prefix may be empty).
    Dated(&'static str, NaiveDate),
}

impl Label {
    /// The label as text (borrowed when it is one static or owned string).
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Label::Static(s) => Cow::Borrowed(s),
            Label::Owned(s) => Cow::Borrowed(s),
            _ => Cow::Owned(self.to_string()),
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Static(s) => f.write_str(s),
            Label::Owned(s) => f.write_str(s),
            Label::Dated(p, d) => {
                f.write_str(p)?;
                write_date(f, *d)
            }
        }
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Label::Static(x) => s.serialize_str(x),
            Label::Owned(x) => s.serialize_str(x),
            _ => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Label::Owned(s.into_boxed_str()))
    }
}

impl PartialEq<str> for Label {
    fn eq(&self, other: &str) -> bool {
        match self {
            Label::Static(s) => *s == other,
            Label::Owned(s) => &**s == other,
            Label::Dated(p, d) => other
                .strip_prefix(p)
                .is_some_and(|rest| rest.len() == 10 && rest.parse::<NaiveDate>() == Ok(*d)),
        }
    }
}
impl PartialEq<&str> for Label {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}
impl PartialEq<String> for Label {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}
impl PartialEq for Label {
    fn eq(&self, other: &Label) -> bool {
        *self == *other.as_text()
    }
}

impl From<&'static str> for Label {
    fn from(s: &'static str) -> Self {
        Label::Static(s)
    }
}
impl From<String> for Label {
    fn from(s: String) -> Self {
        Label::Owned(s.into_boxed_str())
    }
}
impl From<Cow<'static, str>> for Label {
    fn from(s: Cow<'static, str>) -> Self {
        match s {
            Cow::Borrowed(b) => Label::Static(b),
            Cow::Owned(o) => Label::Owned(o.into_boxed_str()),
        }
    }
}

/// One workday of a workweek: `"{hours} h: {regular} regular, {overtime} overtime, {double} double
/// time"` (numbers normalized), plus `" (7th consecutive workday)"`. The hours are the sum of the
/// three classes (classification splits a day's hours exactly).
#[derive(Debug, Clone, Copy)]
pub struct DayText {
    pub regular: Decimal,
    pub overtime: Decimal,
    pub double_time: Decimal,
    pub seventh_day: bool,
}

/// One workweek of an overtime line: `"{h} × {rate} + {m} × {rr} × {h} = {amount}"` with `m` 0.5
/// (overtime) or 1.0 (double time), the regular rate to 6 places and the amount normalized.
#[derive(Debug, Clone, Copy)]
pub struct PremiumText {
    pub hours: Decimal,
    pub rate: Decimal,
    /// true: double time (premium 1.0 × RR); false: overtime (0.5 × RR).
    pub double_time: bool,
    pub regular_rate: Decimal,
    pub amount: Decimal,
}

/// One value in a trace: a number, a flag or a text. Texts built from values are kept as their
/// parts and formatted when serialized.
#[derive(Debug, Clone)]
pub enum TraceValue {
    Num(Decimal),
    Text(Str),
    Flag(bool),
    /// A date, as `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A state code followed by a static text.
    State(crate::request::StateCode, &'static str),
    /// `name[index]`, e.g. `earnings[2]`.
    Indexed(&'static str, usize),
    Day(DayText),
    /// Boxed: rarer than the others and would make every value larger.
    Premium(Box<PremiumText>),
}

impl TraceValue {
    fn is_text(&self) -> bool {
        !matches!(self, TraceValue::Num(_) | TraceValue::Flag(_))
    }
}

impl fmt::Display for TraceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceValue::Num(d) => write!(f, "{d}"),
            TraceValue::Text(s) => f.write_str(s),
            TraceValue::Flag(b) => write!(f, "{b}"),
            TraceValue::Date(d) => write_date(f, *d),
            TraceValue::State(st, text) => {
                f.write_str(st.as_str())?;
                f.write_str(text)
            }
            TraceValue::Indexed(n, i) => write!(f, "{n}[{i}]"),
            TraceValue::Day(d) => {
                write!(
                    f,
                    "{} h: {} regular, {} overtime, {} double time",
                    (d.regular + d.overtime + d.double_time).normalize(),
                    d.regular.normalize(),
                    d.overtime.normalize(),
                    d.double_time.normalize()
                )?;
                if d.seventh_day {
                    f.write_str(" (7th consecutive workday)")?;
                }
                Ok(())
            }
            TraceValue::Premium(p) => write!(
                f,
                "{h} × {r} + {m} × {rr} × {h} = {a}",
                h = p.hours,
                r = p.rate,
                m = if p.double_time { "1.0" } else { "0.5" },
                rr = p.regular_rate.round_dp(6).normalize(),
                a = p.amount.normalize()
            ),
        }
    }
}

impl PartialEq for TraceValue {
    fn eq(&self, other: &TraceValue) -> bool {
        match (self, other) {
            (TraceValue::Num(a), TraceValue::Num(b)) => a == b,
            (TraceValue::Flag(a), TraceValue::Flag(b)) => a == b,
            (TraceValue::Text(a), TraceValue::Text(b)) => a == b,
            (a, b) if a.is_text() && b.is_text() => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl Serialize for TraceValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TraceValue::Num(d) => crate::money::ser_money(d, s),
            TraceValue::Text(t) => s.serialize_str(t),
            TraceValue::Flag(b) => s.serialize_bool(*b),
            _ => s.collect_str(self),
        }
    }
}

/// What a serialized trace value reads back as.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawValue {
    Num(Decimal),
    Text(String),
    Flag(bool),
}

impl<'de> Deserialize<'de> for TraceValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match RawValue::deserialize(d)? {
            RawValue::Num(n) => TraceValue::Num(n),
            RawValue::Text(t) => TraceValue::Text(Cow::Owned(t)),
            RawValue::Flag(b) => TraceValue::Flag(b),
        })
    }
}

impl From<Decimal> for TraceValue {
    fn from(d: Decimal) -> Self {
        TraceValue::Num(d)
    }
}
impl From<&'static str> for TraceValue {
    fn from(s: &'static str) -> Self {
        TraceValue::Text(Cow::Borrowed(s))
    }
}
impl From<String> for TraceValue {
    fn from(s: String) -> Self {
        TraceValue::Text(Cow::Owned(s))
    }
}
impl From<bool> for TraceValue {
    fn from(b: bool) -> Self {
        TraceValue::Flag(b)
    }
}
impl From<NaiveDate> for TraceValue {
    fn from(d: NaiveDate) -> Self {
        TraceValue::Date(d)
    }
}
impl From<DayText> for TraceValue {
    fn from(d: DayText) -> Self {
        TraceValue::Day(d)
    }
}
impl From<PremiumText> for TraceValue {
    fn from(p: PremiumText) -> Self {
        TraceValue::Premium(Box::new(p))
    }
}

/// Ordered named values, serialized as a JSON object in insertion order (what a trace's
/// `inputs` and `steps` read back as).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "std::collections::BTreeMap<String, TraceValue>")]
pub struct Fields(pub Vec<(Label, TraceValue)>);

impl From<std::collections::BTreeMap<String, TraceValue>> for Fields {
    fn from(m: std::collections::BTreeMap<String, TraceValue>) -> Self {
        Fields(m.into_iter().map(|(k, v)| (Label::from(k), v)).collect())
    }
}

/// A rule-pack parameter used by a line, with its source citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamUse {
    pub name: Str,
    pub value: TraceValue,
    pub source: Str,
}

/// How a line's exact value became its cents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rounding {
    #[serde(serialize_with = "crate::money::ser_money")]
    pub exact: Decimal,
    #[serde(serialize_with = "crate::money::ser_money")]
    pub rounded: Decimal,
    pub mode: Str,
}

/// One recorded item of a trace. A trace keeps its inputs, parameters and steps in one list (one
/// allocation per trace instead of three); each group is serialized in the order it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Input(Label, TraceValue),
    Param(ParamUse),
    Step(Label, TraceValue),
}

/// The explanation of one line of the result.
///
/// Serialized as `{line, rule, rule_pack?, inputs?, params?, steps?, rounding?}` where `inputs` and
/// `steps` are JSON objects in recording order and `params` a list; empty groups are left out.
#[derive(Debug, Clone)]
pub struct LineTrace {
    /// Which line this explains, e.g. `earning:overtime`, `tax:US_FIT`, `deduction:401k`.
    pub line: Label,
    /// Rule identifier, e.g. `us.fit.pub15t.percentage`.
    pub rule: Str,
    /// Rule pack (jurisdiction, year and version) the parameters came from, when any.
    pub rule_pack: Option<Str>,
    /// Inputs, parameters and steps in recording order.
    pub entries: Vec<Entry>,
    pub rounding: Option<Rounding>,
}

/// Entries kept when a trace's first entry is recorded without an explicit `reserve` (fits most
/// short traces in one allocation).
const FIRST_RESERVE: usize = 8;

impl LineTrace {
    pub fn new(line: impl Into<Label>, rule: &'static str) -> Self {
        LineTrace {
            line: line.into(),
            rule: Cow::Borrowed(rule),
            rule_pack: None,
            entries: Vec::new(),
            rounding: None,
        }
    }
    /// Reserve room for `inputs`, `params` and `steps` entries up front (a trace known to be
    /// long then takes one allocation instead of growing).
    pub fn reserve(&mut self, inputs: usize, params: usize, steps: usize) -> &mut Self {
        self.entries.reserve_exact(inputs + params + steps);
        self
    }
    pub fn pack(mut self, id: &'static str) -> Self {
        self.rule_pack = Some(Cow::Borrowed(id));
        self
    }
    #[inline]
    fn push(&mut self, e: Entry) {
        if self.entries.capacity() == 0 {
            self.entries.reserve_exact(FIRST_RESERVE);
        }
        self.entries.push(e);
    }
    #[inline]
    pub fn input(&mut self, k: impl Into<Label>, v: impl Into<TraceValue>) -> &mut Self {
        self.push(Entry::Input(k.into(), v.into()));
        self
    }
    pub fn param(&mut self, name: &'static str, p: &'static crate::rules::Param) -> &mut Self {
        self.push(Entry::Param(ParamUse {
            name: Cow::Borrowed(name),
            value: TraceValue::Num(p.value),
            source: Cow::Borrowed(p.source.as_str()),
        }));
        self
    }
    pub fn param_value(
        &mut self,
        name: &'static str,
        value: impl Into<TraceValue>,
        source: &'static str,
    ) -> &mut Self {
        self.push(Entry::Param(ParamUse {
            name: Cow::Borrowed(name),
            value: value.into(),
            source: Cow::Borrowed(source),
        }));
        self
    }
    #[inline]
    pub fn step(&mut self, k: impl Into<Label>, v: impl Into<TraceValue>) -> &mut Self {
        self.push(Entry::Step(k.into(), v.into()));
        self
    }
    /// Round `exact` to cents (half away from zero), record it, return the cents.
    pub fn round(&mut self, exact: Decimal) -> Decimal {
        let rounded = crate::money::cents(exact);
        self.rounding = Some(Rounding {
            exact: crate::money::normalize(exact),
            rounded,
            mode: Cow::Borrowed("half_away_from_zero_to_cents"),
        });
        rounded
    }
    /// The inputs, in recording order.
    pub fn inputs(&self) -> impl Iterator<Item = (&Label, &TraceValue)> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Input(k, v) => Some((k, v)),
            _ => None,
        })
    }
    /// The parameters, in recording order.
    pub fn params(&self) -> impl Iterator<Item = &ParamUse> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Param(p) => Some(p),
            _ => None,
        })
    }
    /// The steps, in recording order.
    pub fn steps(&self) -> impl Iterator<Item = (&Label, &TraceValue)> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Step(k, v) => Some((k, v)),
            _ => None,
        })
    }
    /// The input named `k`, if any.
    pub fn input_value(&self, k: &str) -> Option<&TraceValue> {
        self.inputs().find(|(n, _)| **n == *k).map(|(_, v)| v)
    }
    /// The first step named `k`, if any.
    pub fn step_value(&self, k: &str) -> Option<&TraceValue> {
        self.steps().find(|(n, _)| **n == *k).map(|(_, v)| v)
    }
}

impl PartialEq for LineTrace {
    /// Equal when the header, the rounding and each group (inputs, params, steps) are equal in
    /// order; how the groups interleave in `entries` does not matter (the JSON does not show it).
    fn eq(&self, o: &LineTrace) -> bool {
        self.line == o.line
            && self.rule == o.rule
            && self.rule_pack == o.rule_pack
            && self.rounding == o.rounding
            && self.inputs().eq(o.inputs())
            && self.params().eq(o.params())
            && self.steps().eq(o.steps())
    }
}

/// One group of a trace's entries, serialized as a JSON object (`inputs`, `steps`) or list
/// (`params`).
struct Group<'a> {
    entries: &'a [Entry],
    which: u8,
}

const INPUTS: u8 = 0;
const PARAMS: u8 = 1;
const STEPS: u8 = 2;

fn group_of(e: &Entry) -> u8 {
    match e {
        Entry::Input(..) => INPUTS,
        Entry::Param(_) => PARAMS,
        Entry::Step(..) => STEPS,
    }
}

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        if self.which == PARAMS {
            let mut q = s.serialize_seq(None)?;
            for e in self.entries {
                if let Entry::Param(p) = e {
                    q.serialize_element(p)?;
                }
            }
            return q.end();
        }
        let mut m = s.serialize_map(None)?;
        for e in self.entries {
            match e {
                Entry::Input(k, v) if self.which == INPUTS => m.serialize_entry(k, v)?,
                Entry::Step(k, v) if self.which == STEPS => m.serialize_entry(k, v)?,
                _ => {}
            }
        }
        m.end()
    }
}

impl Serialize for LineTrace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut present = [false; 3];
        for e in &self.entries {
            present[usize::from(group_of(e))] = true;
        }
        let n = 2
            + usize::from(self.rule_pack.is_some())
            + present.iter().filter(|p| **p).count()
            + usize::from(self.rounding.is_some());
        let mut m = s.serialize_map(Some(n))?;
        m.serialize_entry("line", &self.line)?;
        m.serialize_entry("rule", &self.rule)?;
        if let Some(p) = &self.rule_pack {
            m.serialize_entry("rule_pack", p)?;
        }
        for (which, name) in [(INPUTS, "inputs"), (PARAMS, "params"), (STEPS, "steps")] {
            if present[usize::from(which)] {
                m.serialize_entry(
                    name,
                    &Group {
                        entries: &self.entries,
                        which,
                    },
                )?;
            }
        }
        if let Some(r) = &self.rounding {
            m.serialize_entry("rounding", r)?;
        }
        m.end()
    }
}

/// The serialized shape, read back.
#[derive(Deserialize)]
struct RawTrace {
    line: Label,
    rule: Str,
    #[serde(default)]
    rule_pack: Option<Str>,
    #[serde(default)]
    inputs: Fields,
    #[serde(default)]
    params: Vec<ParamUse>,
    #[serde(default)]
    steps: Fields,
    #[serde(default)]
    rounding: Option<Rounding>,
}

impl<'de> Deserialize<'de> for LineTrace {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawTrace::deserialize(d)?;
        let mut entries = Vec::with_capacity(r.inputs.0.len() + r.params.len() + r.steps.0.len());
        entries.extend(r.inputs.0.into_iter().map(|(k, v)| Entry::Input(k, v)));
        entries.extend(r.params.into_iter().map(Entry::Param));
        entries.extend(r.steps.0.into_iter().map(|(k, v)| Entry::Step(k, v)));
        Ok(LineTrace {
            line: r.line,
            rule: r.rule,
            rule_pack: r.rule_pack,
            entries,
            rounding: r.rounding,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::dec;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn labels_print_and_compare_as_their_text() {
        let d = date("2025-03-03");
        assert_eq!(Label::from("tax:US_SS"), "tax:US_SS");
        let owned = Label::from("tax:US_SS".to_string());
        assert!(owned != "tax:US_S");
        assert_eq!(owned, "tax:US_SS");
        assert!(std::mem::size_of::<Label>() <= 24);
        assert!(std::mem::size_of::<TraceValue>() <= 56);
        assert_eq!(
            Label::Dated("hours:workweek:", d).to_string(),
            "hours:workweek:2025-03-03"
        );
        assert_eq!(
            Label::Dated("", date("0987-12-31")).to_string(),
            "0987-12-31"
        );
        assert_eq!(
            serde_json::to_string(&Label::Dated("workweek:", d)).unwrap(),
            "\"workweek:2025-03-03\""
        );
    }

    #[test]
    fn texts_serialize_like_the_formatted_string() {
        let day = TraceValue::Day(DayText {
            regular: dec!(8.00),
            overtime: dec!(4),
            double_time: dec!(0.5),
            seventh_day: true,
        });
        assert_eq!(
            serde_json::to_string(&day).unwrap(),
            "\"12.5 h: 8 regular, 4 overtime, 0.5 double time (7th consecutive workday)\""
        );
        let p = TraceValue::from(PremiumText {
            hours: dec!(2.5),
            rate: dec!(17.50),
            double_time: false,
            regular_rate: dec!(17.5123456789),
            amount: dec!(65.6404321000),
        });
        let st = crate::request::StateCode::parse("TX").unwrap();
        assert_eq!(
            TraceValue::State(st, " has no tax").to_string(),
            "TX has no tax"
        );
        assert_eq!(
            p.to_string(),
            "2.5 × 17.50 + 0.5 × 17.512346 × 2.5 = 65.6404321"
        );
        assert_eq!(
            p,
            TraceValue::from("2.5 × 17.50 + 0.5 × 17.512346 × 2.5 = 65.6404321".to_string())
        );
        assert_eq!(
            serde_json::to_string(&TraceValue::Indexed("earnings", 3)).unwrap(),
            "\"earnings[3]\""
        );
        assert_eq!(
            serde_json::to_string(&TraceValue::Num(dec!(1.50))).unwrap(),
            "\"1.50\""
        );
        assert_ne!(TraceValue::Num(dec!(1)), TraceValue::from("1"));
    }
}
