use serde_json::Value;

use crate::support::spawn_app;

#[tokio::test]
async fn login_then_me_returns_200_with_the_full_phone() {
    let app = spawn_app().await;
    let s = app.login("13812345678").await;
    let res = app.get_auth("/api/v1/me", &s.access).await;
    assert_eq!(res.status().as_u16(), 200);
    let me: Value = res.json().await.expect("json");
    assert_eq!(me["phone"], "13812345678");
}
