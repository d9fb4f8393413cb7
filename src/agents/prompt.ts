/**
 * Prompt templates with Liquid (liquidjs): loops, conditions and filters,
 * no code execution in templates, and an unknown variable is an error rather
 * than an empty hole in a prompt. Parsed templates are kept (by source) so a
 * prompt used by ten thousand runs is parsed once per thread.
 */
import { Liquid, type Template } from 'liquidjs';
import { PromptTemplateError } from './errors.js';

const engine = new Liquid({ strictVariables: true, strictFilters: true });
const parsed = new Map<string, Template[]>();
const kMaxParsed = 512;

function templateOf(source: string): Template[] {
  let template = parsed.get(source);
  if (template === undefined) {
    if (typeof source !== 'string') throw new PromptTemplateError(`a template is a string, received ${typeof source}`);
    try {
      template = engine.parse(source);
    } catch (error) {
      throw new PromptTemplateError((error as Error).message, { cause: error });
    }
    if (parsed.size >= kMaxParsed) parsed.delete(parsed.keys().next().value!);
    parsed.set(source, template);
  }
  return template;
}

/** Renders `template` with `vars`. */
export async function renderPrompt(template: string, vars: Record<string, unknown> = {}): Promise<string> {
  const parsedTemplate = templateOf(template);
  try {
    return await engine.render(parsedTemplate, vars);
  } catch (error) {
    throw new PromptTemplateError((error as Error).message, { cause: error });
  }
}
