// The researcher: a conversation agent with no tools of its own. As the planner's tool it gets
// `{ text }` and answers `{ text }`, and its own history remembers every question.
import { defineConversation } from 'troupe/agents';

export default defineConversation({
  provider: 'gpt',
  system: 'You are a researcher. Answer in one or two sentences.',
  maxTokens: 300,
});
