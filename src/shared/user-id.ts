/** User ids come from verified tokens and travel in Kafka headers, keys and logs: they are kept short. */
export const MAX_USER_ID_LENGTH = 256;
