// a developer's helper, never copied into the image
console.log(process.env.CLOUDRON_MONGODB_URL);
