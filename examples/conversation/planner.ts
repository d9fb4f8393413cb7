// The planner: its tools are another agent (research) and a plain actor (save_note); which actor serves
// each is given when it is started (agents.conversation(url, { name, tools })).
import { defineConversation } from 'troupe/agents';

export default defineConversation({
  provider: 'gpt',
  system: 'You are a planner. Ask the researcher what you need to know, save the key finding as a note, then answer with a short plan.',
  maxTokens: 500,
  tools: {
    research: {
      description: 'Asks the researcher a question; returns { text }',
      parameters: { type: 'object', properties: { text: { type: 'string', description: 'the question' } }, required: ['text'] },
    },
    save_note: {
      description: 'Saves a note for the team',
      parameters: { type: 'object', properties: { title: { type: 'string' }, text: { type: 'string' } }, required: ['title', 'text'] },
    },
  },
});
