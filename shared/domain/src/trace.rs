//! The explanation attached to every computed line: which rule, which inputs, which parameters
//! (with their source), the intermediate values and the rounding.

use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;

pub type Str = Cow<'static, str>;

/// One value in a trace: a number or a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraceValue {
    Num(Decimal),
    Text(Str),
    Flag(bool),
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

/// Ordered named values, serialized as a JSON object in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "std::collections::BTreeMap<String, TraceValue>")]
pub struct Fields(pub Vec<(Str, TraceValue)>);

impl From<std::collections::BTreeMap<String, TraceValue>> for Fields {
    fn from(m: std::collections::BTreeMap<String, TraceValue>) -> Self {
        Fields(m.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect())
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Fields {
    pub fn push(&mut self, k: impl Into<Str>, v: impl Into<TraceValue>) {
        self.0.push((k.into(), v.into()));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
    pub exact: Decimal,
    pub rounded: Decimal,
    pub mode: Str,
}

/// The explanation of one line of the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineTrace {
    /// Which line this explains, e.g. `earning:overtime`, `tax:US_FIT`, `deduction:401k`.
    pub line: Str,
    /// Rule identifier, e.g. `us.fit.pub15t.percentage`.
    pub rule: Str,
    /// Rule pack (jurisdiction, year and version) the parameters came from, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_pack: Option<Str>,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub inputs: Fields,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamUse>,
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub steps: Fields,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounding: Option<Rounding>,
}

impl LineTrace {
    pub fn new(line: impl Into<Str>, rule: &'static str) -> Self {
        LineTrace {
            line: line.into(),
            rule: Cow::Borrowed(rule),
            rule_pack: None,
            inputs: Fields::default(),
            params: Vec::new(),
            steps: Fields::default(),
            rounding: None,
        }
    }
    pub fn pack(mut self, id: &'static str) -> Self {
        self.rule_pack = Some(Cow::Borrowed(id));
        self
    }
    pub fn input(&mut self, k: impl Into<Str>, v: impl Into<TraceValue>) -> &mut Self {
        self.inputs.push(k, v);
        self
    }
    pub fn param(&mut self, name: &'static str, p: &'static crate::rules::Param) -> &mut Self {
        self.params.push(ParamUse {
            name: Cow::Borrowed(name),
            value: TraceValue::Num(p.value),
            source: Cow::Borrowed(p.source.as_str()),
        });
        self
    }
    pub fn param_value(
        &mut self,
        name: &'static str,
        value: impl Into<TraceValue>,
        source: &'static str,
    ) -> &mut Self {
        self.params.push(ParamUse {
            name: Cow::Borrowed(name),
            value: value.into(),
            source: Cow::Borrowed(source),
        });
        self
    }
    pub fn step(&mut self, k: impl Into<Str>, v: impl Into<TraceValue>) -> &mut Self {
        self.steps.push(k, v);
        self
    }
    /// Round `exact` to cents (half away from zero), record it, return the cents.
    pub fn round(&mut self, exact: Decimal) -> Decimal {
        let rounded = crate::money::cents(exact);
        self.rounding = Some(Rounding {
            exact: exact.normalize(),
            rounded,
            mode: Cow::Borrowed("half_away_from_zero_to_cents"),
        });
        rounded
    }
}
