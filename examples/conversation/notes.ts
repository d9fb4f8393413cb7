// A plain actor that serves a conversation tool: `save_note` { title, text }. `{ type: 'list' }` reads the notes.
import { defineActor } from 'troupe';

export interface Note {
  title: string;
  text: string;
}

type NotesMessage = { type: 'tool'; name: string; arguments: Partial<Note> } | { type: 'list' };

export default defineActor({
  init: () => ({ notes: [] as Note[] }),
  receive(state, msg: NotesMessage, ctx) {
    if (msg.type === 'list') return ctx.reply(state.notes.slice());
    // Whatever the model sends, the reply says what happened: it is what the model reads back.
    const { title, text } = msg.arguments ?? {};
    if (msg.name !== 'save_note' || typeof title !== 'string' || typeof text !== 'string') return ctx.reply({ saved: false, why: 'save_note needs { title, text }' });
    state.notes.push({ title, text });
    ctx.reply({ saved: true, count: state.notes.length });
  },
});
