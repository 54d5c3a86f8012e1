"""Messages to customers and staff: SMS through Twilio's Messaging API, e-mail over SMTP,
phone numbers in E.164."""
