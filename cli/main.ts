// smcirc command line: placeholder until the CLI lands.
console.log('smcirc');
