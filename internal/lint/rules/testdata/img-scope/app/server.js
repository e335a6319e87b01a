const db = process.env.DATABASE_URL;
const mail = process.env.CLOUDRON_MAIL_SMTP_SERVR;
