//! Serves the demo Google Workspace sandbox:
//! `cargo run -p atpilot-google-sandbox --example google-serve -- 127.0.0.1:0`.
//! Prints the token, Directory and Licensing URLs, the service account (the
//! TEST-ONLY key file goes to the path given second, if any) and each customer.
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let addr =
        addr.parse().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{addr}: {e}")))?;
    let sb = atpilot_google_sandbox::Sandbox::start(atpilot_google_sandbox::Seed::demo(), addr).await?;
    println!("token url      {}", sb.token_url());
    println!("directory base {}", sb.directory_base());
    println!("licensing base {}", sb.licensing_base());
    println!(
        "service acct   {}  client id {}",
        atpilot_google_sandbox::SERVICE_ACCOUNT_EMAIL,
        atpilot_google_sandbox::CLIENT_ID
    );
    if let Some(path) = std::env::args().nth(2) {
        std::fs::write(&path, sb.service_account_json())?;
        println!("TEST-ONLY key file written to {path}");
    }
    for c in sb.customers() {
        println!("company {:>3}  customer {}  {}  admin {}", c.company_id, c.customer_id, c.domain, c.admin);
    }
    tokio::signal::ctrl_c().await
}
