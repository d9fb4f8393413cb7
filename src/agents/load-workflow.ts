/** The workflow a run names, from its module (cached by the module loader after the first import on a thread). */
import { isWorkflowDefinition, type WorkflowDefinition } from './define-workflow.js';
import { WorkflowDefinitionError } from './errors.js';

export async function loadWorkflow(module: string, exportName: string): Promise<WorkflowDefinition> {
  const loaded = (await import(module)) as Record<string, unknown>;
  const definition = loaded[exportName];
  if (!isWorkflowDefinition(definition)) throw new WorkflowDefinitionError([`export "${exportName}" of ${module} is not made by defineWorkflow()`]);
  return definition;
}
