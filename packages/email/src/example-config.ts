/** What `teleport-email configure` prints: every key of the official file, commented. */
export const EXAMPLE_CONFIG = `# teleport-email configuration (TOML)
# Save it with: teleport-email configure | sudo tee /etc/teleport-email.toml
# Keep one of [mailgun] or [smtp]; with both, SMTP is used.

[teleport]
# Where the plugin reaches Teleport: the Auth Service (port 3025) or the Proxy
# Service (443 or 3080). Teleport Cloud: "your-account.teleport.sh:443".
addr = "0.0.0.0:3025"

# How the plugin signs in to Teleport.
#
# An identity file (tctl auth sign --format=file, or a tbot identity output):
# identity = "/var/lib/teleport/plugins/email/auth_id"    # identity file path
# refresh_identity = true                                 # re-read it periodically (tbot renews it)
#
# Or a TLS key pair and CA bundle (tctl auth sign --format=tls):
# client_key = "/var/lib/teleport/plugins/email/auth.key" # private key
# client_crt = "/var/lib/teleport/plugins/email/auth.crt" # certificate
# root_cas = "/var/lib/teleport/plugins/email/auth.cas"   # Teleport CA certificates

[mailgun]
domain = "your-domain-name"  # the sending domain registered with Mailgun
private_key = "xoxb-11xx"    # the domain's API key
# private_key_file = "/var/lib/teleport/plugins/email/mailgun_private_key" # or read the key from a file
# region = "eu"              # for domains in Mailgun's EU region (or api_base = "https://…")

[smtp]
host = "smtp.gmail.com"
port = 587                   # 465 means implicit TLS
username = "username@gmail.com"
password = ""
# password_file = "/var/lib/teleport/plugins/email/smtp_password" # or read the password from a file
starttls_policy = "mandatory" # mandatory|opportunistic|disabled

[delivery]
sender = "noreply@example.com" # From: email address

[role_to_recipients]
# Who is mailed about a request, by requested role: one address or a list.
# The "*" entry is required: it covers every role without an entry of its own.
# Suggested reviewers are mailed too.
"dev" = "dev-manager@example.com"
"*" = ["root@example.com", "admin@example.com"]

[log]
output = "stderr" # "stdout", "stderr" or a file path such as "/var/lib/teleport/email.log"
severity = "INFO" # "DEBUG", "INFO", "WARN" or "ERROR"
`;
