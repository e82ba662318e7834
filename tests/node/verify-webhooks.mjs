// Verifies webhook deliveries with the Standard Webhooks reference library (npm standardwebhooks): node verify-webhooks.mjs FILE
// FILE: a JSON array of {secret, headers: {webhook-id, webhook-timestamp, webhook-signature}, body}. Prints how many verified;
// exits 1 naming the first that does not.
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';

const deliveries = JSON.parse(readFileSync(process.argv[2], 'utf8'));
deliveries.forEach((delivery, index) => {
  try {
    const event = new Webhook(delivery.secret).verify(delivery.body, delivery.headers);
    if (event.id !== delivery.headers['webhook-id']) throw new Error(`the body's id ${event.id} is not the header's`);
  } catch (error) {
    console.error(`delivery ${index} (${delivery.headers['webhook-id']}): ${error.message}`);
    process.exit(1);
  }
});
console.log(deliveries.length);
