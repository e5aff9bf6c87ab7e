/** What `teleport-discord configure` prints: every key of the official file, commented. */
export const EXAMPLE_CONFIG = `# teleport-discord configuration (TOML)
# Save it with: teleport-discord configure > /etc/teleport-discord.toml

[teleport]
# Where the plugin reaches Teleport: the Auth Service (port 3025) or the Proxy
# Service (443 or 3080). Teleport Cloud: "your-account.teleport.sh:443".
# addr = "example.com:3025"

# How the plugin signs in to Teleport.
#
# An identity file (tctl auth sign --format=file, or a tbot identity output):
# identity = "/var/lib/teleport/plugins/discord/auth_id"    # identity file path
# refresh_identity = true                                   # re-read it periodically (tbot renews it)
#
# Or a TLS key pair and CA bundle (tctl auth sign --format=tls):
# client_key = "/var/lib/teleport/plugins/discord/auth.key" # private key
# client_crt = "/var/lib/teleport/plugins/discord/auth.crt" # certificate
# root_cas = "/var/lib/teleport/plugins/discord/auth.cas"   # Teleport CA certificates

[discord]
# The bot's token (Developer Portal, "Bot" page). An absolute path instead reads the
# token from that file, e.g. token = "/var/lib/teleport/plugins/discord/discord-token"
token = "secret-token"

[role_to_recipients]
# Who hears about a request, by requested role. A value is one recipient or a list.
# A recipient is a Discord channel ID (the bot needs "Send Messages" there), or
# "user:<user ID>" for a direct message from the bot.
# The "*" entry is required: it covers every role without an entry of its own.
#
# "dev" = "0987654321"
# "*" = ["1234567890", "0987654321"]

[log]
output = "stderr" # "stdout", "stderr" or a file path such as "/var/lib/teleport/discord.log"
severity = "INFO" # "DEBUG", "INFO", "WARN" or "ERROR"
`;
