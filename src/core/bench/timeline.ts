import type { Profile } from '../profile/types';
import type { BenchPersona } from './types';

/**
 * The persona as it was at a given scene. A golden persona describes the end of its timeline; a
 * fact that changes mid-way (`BenchPersona.changes`: from scene `sceneIndex` on, `after` holds
 * instead of `before`) held its old state before that scene. The golden condition's prompt, the
 * simulator and the judge see the persona of the scene's time, so a scene set before a move is not
 * played, answered or judged as if the user had already moved. The loader checks that the golden
 * value mentions `after`; its first mention is replaced by `before`.
 */
export function goldenAt(persona: BenchPersona, sceneIndex: number): Profile {
  const pending = (persona.changes ?? []).filter((change) => sceneIndex < change.sceneIndex);
  if (pending.length === 0) return persona.golden;
  return {
    ...persona.golden,
    sections: persona.golden.sections.map((section) => {
      const changes = pending.filter((c) => c.section === section.name);
      if (changes.length === 0) return section;
      const fields = { ...section.fields };
      for (const change of changes) {
        const field = fields[change.key];
        if (field === undefined) continue;
        const at = field.value.toLowerCase().indexOf(change.after.toLowerCase());
        if (at < 0) continue;
        const value =
          field.value.slice(0, at) + change.before + field.value.slice(at + change.after.length);
        fields[change.key] = { ...field, value };
      }
      return { ...section, fields };
    }),
  };
}
