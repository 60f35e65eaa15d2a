console.log("module");
