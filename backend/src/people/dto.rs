//! The `User` of API.md and the profile patch.
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::auth::scope::Role;

/// A person as the API shows them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Id.
    pub id: i64,
    /// In full for the owner and covering admins, otherwise masked (`138****5678`).
    pub phone: Option<String>,
    /// Real name.
    pub name: Option<String>,
    /// `female`, `male` or null.
    pub gender: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<String>,
    /// The unit (enterprise or social organization) the person works in.
    pub unit_id: Option<i64>,
    /// Name of that unit, for display.
    pub unit_name: Option<String>,
    /// The online platform a platform worker works through.
    pub platform: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
}

/// Distinguishes a field left out (`None`) from one set to null (`Some(None)`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /me`: fields left out stay as they are; null clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMe {
    /// Real name, 1–50 characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// `female` or `male`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub gender: Option<Option<String>>,
    /// `YYYY-MM-DD`, not in the future.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<Option<String>>,
    /// Id of an existing unit.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub unit_id: Option<Option<i64>>,
    /// Platform name, 1–50 characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub platform: Option<Option<String>>,
}

/// `DELETE /me` answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    /// Always `anonymised`.
    pub status: String,
}
