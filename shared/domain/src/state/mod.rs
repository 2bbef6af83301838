//! State rule packs: labour rules (minimum wage, tip credit, overtime rule set) and withholding.

pub mod withholding;

use crate::rules::{PackHeader, Param};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A dated change of the minimum wage inside a pack's validity (e.g. a July 1 increase).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WageChange {
    pub from: NaiveDate,
    pub value: Decimal,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LaborRules {
    /// `flsa` or `california`: the default overtime rule set for work in this state.
    pub overtime_rules: crate::request::OvertimeRules,
    /// State minimum wage per hour in force from `valid_from`.
    pub minimum_wage: Param,
    /// Later changes within the pack's validity, in date order.
    #[serde(default)]
    pub minimum_wage_changes: Vec<WageChange>,
    /// Whether employers may take a tip credit against the minimum wage.
    pub tip_credit_allowed: bool,
    pub tip_credit_source: String,
    /// Minimum cash wage for tipped employees when a tip credit is allowed.
    #[serde(default)]
    pub tipped_cash_wage: Option<Param>,
}

impl LaborRules {
    /// The minimum wage on `date` (changes apply from their `from` date) and its source.
    pub fn minimum_wage_on(&self, date: NaiveDate) -> (Decimal, &str) {
        let mut v = (self.minimum_wage.value, self.minimum_wage.source.as_str());
        for c in &self.minimum_wage_changes {
            if c.from <= date {
                v = (c.value, c.source.as_str());
            }
        }
        v
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatePack {
    #[serde(flatten)]
    pub header: PackHeader,
    pub labor: LaborRules,
    pub withholding: withholding::StateTaxRules,
}

impl StatePack {
    pub fn validate(&self) -> Result<(), String> {
        let j = &self.header.jurisdiction;
        if crate::request::StateCode::parse(j).is_err() {
            return Err(format!("jurisdiction {j:?} is not a state code"));
        }
        let l = &self.labor;
        if l.minimum_wage.value <= Decimal::ZERO {
            return Err("labor.minimum_wage must be positive".into());
        }
        if l.tip_credit_allowed != l.tipped_cash_wage.is_some() {
            return Err(
                "labor.tipped_cash_wage is required exactly when tip_credit_allowed".into(),
            );
        }
        if let Some(t) = &l.tipped_cash_wage
            && t.value > l.minimum_wage.value
        {
            return Err("labor.tipped_cash_wage above the minimum wage".into());
        }
        for w in l.minimum_wage_changes.windows(2) {
            if w[1].from <= w[0].from {
                return Err("labor.minimum_wage_changes out of order".into());
            }
        }
        if l.minimum_wage_changes
            .iter()
            .any(|c| !self.header.covers(c.from))
        {
            return Err("labor.minimum_wage_changes outside the pack's validity".into());
        }
        self.withholding.validate()
    }

    pub fn sources(&self) -> Vec<String> {
        let l = &self.labor;
        let mut s = vec![l.minimum_wage.source.clone(), l.tip_credit_source.clone()];
        s.extend(l.minimum_wage_changes.iter().map(|c| c.source.clone()));
        s.extend(l.tipped_cash_wage.iter().map(|p| p.source.clone()));
        s.extend(self.withholding.sources());
        s
    }
}
