export { reliableProducer } from './producer.js';
export type { ReliableProducer, ReliableProducerOptions, ProducerEvent } from './producer.js';
export { reliable } from './consumer.js';
export type { ReliableConsumerOptions, ConsumerEvent, ReliableState } from './consumer.js';
export { ReliableBufferFullError } from './errors.js';
