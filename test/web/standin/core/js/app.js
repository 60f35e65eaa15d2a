console.log("classic");
