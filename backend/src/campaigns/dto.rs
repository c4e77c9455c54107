//! Request and response types of holiday visit campaigns, and the parsing of
//! what officers send.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{AppError, AppResult};
use crate::orgs::dto::clean_text;

/// The holidays a campaign is for.
pub const OCCASIONS: [&str; 4] = ["spring_festival", "mid_autumn", "dragon_boat", "other"];
/// Ways a household is helped.
pub const FORMS: [&str; 3] = ["money", "goods", "both"];
/// The largest sum handed over in one visit (fen): 100,000 yuan.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000;
/// Longest description of goods.
pub const MAX_GOODS_CHARS: usize = 200;
/// Longest note.
pub const MAX_NOTE_CHARS: usize = 500;

/// `POST /campaigns`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaign {
    /// The organization; the caller must be one of its `org_admin`s.
    pub org_id: i64,
    /// 1–100 characters.
    #[schema(example = "2027年春节困难职工慰问")]
    pub title: String,
    /// spring_festival, mid_autumn, dragon_boat or other.
    #[schema(example = "spring_festival")]
    pub occasion: String,
}

/// A checked [`CreateCampaign`].
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// The organization.
    pub org_id: i64,
    /// Title.
    pub title: String,
    /// Occasion.
    pub occasion: String,
}

impl NewCampaign {
    /// Checks title and occasion (422 `invalid_title`, `invalid_occasion`).
    pub fn parse(b: CreateCampaign) -> AppResult<NewCampaign> {
        let title = clean_text(&b.title, 100, "invalid_title", "标题应为1到100个字")?;
        if !OCCASIONS.contains(&b.occasion.as_str()) {
            return Err(AppError::rule(
                "invalid_occasion",
                "节日应为 spring_festival、mid_autumn、dragon_boat 或 other",
            ));
        }
        Ok(NewCampaign {
            org_id: b.org_id,
            title,
            occasion: b.occasion,
        })
    }
}

/// A campaign with its progress.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    /// Id.
    pub id: i64,
    /// The organization.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Title.
    pub title: String,
    /// spring_festival, mid_autumn, dragon_boat or other.
    pub occasion: String,
    /// open or closed.
    pub status: String,
    /// Households to visit (fixed when the campaign was made).
    pub households: i64,
    /// Visits done.
    pub done: i64,
    /// Visits still to do.
    pub pending: i64,
    /// Money handed over so far (fen).
    pub money_fen: i64,
    /// Visits that brought goods.
    pub goods_count: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, when closed.
    pub closed_at: Option<String>,
}

/// `GET /campaigns` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// Required: the organization (its `org_admin`s only).
    pub org_id: Option<i64>,
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// From a previous page (newest first).
    pub cursor: Option<String>,
}

/// `GET /campaigns/{id}/visits` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitQuery {
    /// pending or done.
    pub status: Option<String>,
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// From a previous page.
    pub cursor: Option<String>,
}

/// One household's visit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Visit {
    /// Id.
    pub id: i64,
    /// The person visited.
    pub user_id: i64,
    /// Their name.
    pub name: Option<String>,
    /// Their phone, masked (138****5678).
    pub phone: Option<String>,
    /// deep, relative or sudden.
    pub hardship_class: String,
    /// The hardship case the household was taken from.
    pub case_id: Option<i64>,
    /// pending or done.
    pub status: String,
    /// YYYY-MM-DD.
    pub visited_on: Option<String>,
    /// money, goods or both.
    pub form: Option<String>,
    /// Money handed over (fen).
    pub amount_fen: Option<i64>,
    /// What was brought.
    pub goods: Option<String>,
    /// The officer's note.
    pub note: Option<String>,
    /// Who recorded the visit.
    pub done_by_name: Option<String>,
    /// RFC 3339, when recorded.
    pub done_at: Option<String>,
}

/// `POST /campaigns/{id}/visits/{vid}/done`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkDone {
    /// YYYY-MM-DD, not in the future.
    #[schema(example = "2027-02-03")]
    pub visited_on: String,
    /// money, goods or both.
    #[schema(example = "both")]
    pub form: String,
    /// For money and both: 1–10,000,000 fen; not given for goods.
    #[schema(example = 50000)]
    pub amount_fen: Option<i64>,
    /// For goods and both: 1–200 characters; not given for money.
    #[schema(example = "米、油各一份")]
    pub goods: Option<String>,
    /// Up to 500 characters.
    pub note: Option<String>,
}

/// A checked [`MarkDone`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// YYYY-MM-DD.
    pub visited_on: String,
    /// money, goods or both.
    pub form: String,
    /// Fen, for money and both.
    pub amount_fen: Option<i64>,
    /// For goods and both.
    pub goods: Option<String>,
    /// Plain text, sealed before it is stored.
    pub note: Option<String>,
}

impl Done {
    /// Checks a done body against the rules; `today` is the date in China.
    pub fn parse(b: MarkDone, today: NaiveDate) -> AppResult<Done> {
        let date = (b.visited_on.len() == 10)
            .then(|| NaiveDate::parse_from_str(&b.visited_on, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| AppError::rule("invalid_visited_on", "走访日期应为 YYYY-MM-DD"))?;
        if date > today {
            return Err(AppError::rule("invalid_visited_on", "走访日期不能晚于今天"));
        }
        if !FORMS.contains(&b.form.as_str()) {
            return Err(AppError::rule(
                "invalid_form",
                "慰问形式应为 money（慰问金）、goods（慰问品）或 both（两者都有）",
            ));
        }
        let money = b.form != "goods";
        let goods = b.form != "money";
        let amount_fen = match (money, b.amount_fen) {
            (true, Some(a)) if (1..=MAX_AMOUNT_FEN).contains(&a) => Some(a),
            (true, _) => {
                return Err(AppError::rule(
                    "invalid_amount",
                    "慰问金应在0.01元到10万元之间（单位：分）",
                ));
            }
            (false, None) => None,
            (false, Some(_)) => {
                return Err(AppError::rule("invalid_amount", "只送慰问品时不填慰问金"));
            }
        };
        let goods = match (goods, b.goods) {
            (true, Some(g)) => Some(clean_text(
                &g,
                MAX_GOODS_CHARS,
                "invalid_goods",
                "慰问品应为1到200个字",
            )?),
            (true, None) => {
                return Err(AppError::rule("invalid_goods", "请填写送了哪些慰问品"));
            }
            (false, None) => None,
            (false, Some(_)) => {
                return Err(AppError::rule("invalid_goods", "只发慰问金时不填慰问品"));
            }
        };
        let note = match b.note.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n)
                if n.chars().count() <= MAX_NOTE_CHARS
                    && !n.chars().any(|c| c.is_control() && c != '\n') =>
            {
                Some(n.to_owned())
            }
            Some(_) => {
                return Err(AppError::rule("invalid_note", "备注最多500个字"));
            }
        };
        Ok(Done {
            visited_on: date.format("%Y-%m-%d").to_string(),
            form: b.form,
            amount_fen,
            goods,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(visited_on: &str, form: &str, amount: Option<i64>, goods: Option<&str>) -> MarkDone {
        MarkDone {
            visited_on: visited_on.into(),
            form: form.into(),
            amount_fen: amount,
            goods: goods.map(Into::into),
            note: None,
        }
    }

    fn code(r: AppResult<Done>) -> String {
        match r {
            Err(AppError::Unprocessable(c, _)) => c.to_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn done_bodies_follow_the_form() {
        let today = NaiveDate::from_ymd_opt(2027, 2, 3).expect("date");
        let ok = Done::parse(
            body("2027-02-03", "both", Some(50_000), Some(" 米油 ")),
            today,
        )
        .expect("valid");
        assert_eq!(
            (ok.amount_fen, ok.goods.as_deref()),
            (Some(50_000), Some("米油"))
        );
        assert!(Done::parse(body("2027-01-01", "money", Some(1), None), today).is_ok());
        assert!(Done::parse(body("2027-01-01", "goods", None, Some("被子")), today).is_ok());
        let long = "米".repeat(201);
        for (b, want) in [
            (
                body("2027-02-04", "money", Some(1), None),
                "invalid_visited_on",
            ),
            (
                body("2027-2-3", "money", Some(1), None),
                "invalid_visited_on",
            ),
            (
                body("2027-02-30", "money", Some(1), None),
                "invalid_visited_on",
            ),
            (
                body("yesterday", "money", Some(1), None),
                "invalid_visited_on",
            ),
            (body("2027-02-03", "cash", Some(1), None), "invalid_form"),
            (body("2027-02-03", "money", None, None), "invalid_amount"),
            (body("2027-02-03", "money", Some(0), None), "invalid_amount"),
            (
                body("2027-02-03", "both", Some(10_000_001), Some("米")),
                "invalid_amount",
            ),
            (
                body("2027-02-03", "goods", Some(100), Some("米")),
                "invalid_amount",
            ),
            (body("2027-02-03", "goods", None, None), "invalid_goods"),
            (
                body("2027-02-03", "goods", None, Some("  ")),
                "invalid_goods",
            ),
            (
                body("2027-02-03", "both", Some(1), Some(&long)),
                "invalid_goods",
            ),
            (
                body("2027-02-03", "money", Some(1), Some("米")),
                "invalid_goods",
            ),
        ] {
            assert_eq!(code(Done::parse(b, today)), want);
        }
    }

    #[test]
    fn notes_are_optional_bounded_and_may_span_lines() {
        let today = NaiveDate::from_ymd_opt(2027, 2, 3).expect("date");
        let with = |n: &str| {
            let mut b = body("2027-02-03", "money", Some(1), None);
            b.note = Some(n.into());
            Done::parse(b, today)
        };
        assert_eq!(with("  ").expect("ok").note, None);
        assert_eq!(
            with("老人在家\n身体尚可").expect("ok").note.as_deref(),
            Some("老人在家\n身体尚可")
        );
        assert_eq!(code(with(&"字".repeat(501))), "invalid_note");
        assert_eq!(code(with("a\u{0}b")), "invalid_note");
    }

    #[test]
    fn campaigns_need_a_title_and_a_known_occasion() {
        let parse = |t: &str, o: &str| {
            NewCampaign::parse(CreateCampaign {
                org_id: 1,
                title: t.into(),
                occasion: o.into(),
            })
        };
        assert!(parse("2027年春节慰问", "spring_festival").is_ok());
        for (t, o, want) in [
            ("", "other", "invalid_title"),
            (&"字".repeat(101), "other", "invalid_title"),
            ("慰问", "christmas", "invalid_occasion"),
        ] {
            match parse(t, o) {
                Err(AppError::Unprocessable(c, _)) => assert_eq!(c, want),
                other => panic!("{other:?}"),
            }
        }
    }
}
